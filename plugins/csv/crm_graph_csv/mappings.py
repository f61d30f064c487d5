"""Ready mappings for other tools' CSV exports: header renames plus the value changes each export needs.

Each mapping is a `CsvMapping` registered through `register_csv_mappings`; `signature` lists the
columns that tell the export apart (``--mapping auto`` picks by them). The transforms are pure
functions of a row (keyed by our column names after renaming, other columns by their lower-cased
header) and return the rows of our kind it stands for; see docs/csv_formats.md for each column table.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crm_graph.connectors.csv import CsvMapping

_OFFSET_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?) ?([+-]\d\d):?(\d\d)$")


def _with_offset(value: str) -> str:
    """Shopify's ``2024-01-15 10:23:45 -0500`` as ISO 8601 (``2024-01-15T10:23:45-05:00``)."""
    match = _OFFSET_TIME.match(value)
    return f"{match[1]}T{match[2]}{match[3]}:{match[4]}" if match else value


def _utc(value: str) -> str:
    """A time without offset that the export writes in UTC (Mailchimp's), as ISO 8601 in UTC."""
    return f"{value.replace(' ', 'T', 1)}+00:00" if value and len(value) > 10 and "+" not in value[10:] else value


def _split_name(full: str) -> tuple[str, str]:
    first, _, last = full.strip().partition(" ")
    return first, last.strip()


# --- Shopify --------------------------------------------------------------------------------------

#: Shopify admin → Customers → Export (the current export and the older one's column names).
SHOPIFY_CUSTOMERS = CsvMapping(
    name="shopify-customers",
    kind="customers",
    description="Shopify's customer export (Customers → Export → CSV for Excel or plain CSV).",
    columns={
        "Customer ID": "customer_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Accepts Email Marketing": "email_consent",
        "Accepts Marketing": "email_consent",
        "Accepts SMS Marketing": "sms_consent",
        "Default Address City": "city",
        "City": "city",
        "Default Address Country Code": "country",
        "Country Code": "country",
        "Phone": "phone",
        "Tags": "tags",
    },
    signature=("First Name", "Last Name", "Default Address Country Code", "Accepts Email Marketing", "Total Spent",
               "Total Orders", "Tax Exempt"),
)

#: Shopify's financial statuses (and cancellation) to the words the orders kind reads.
_SHOPIFY_STATUS = {"voided": "cancelled", "expired": "cancelled", "refunded": "refunded"}
#: The order-level columns Shopify fills on an order's first row only.
_ORDER_LEVEL = ("placed_at", "status", "total", "subtotal", "shipping", "tax", "discount", "currency",
                "first_name", "last_name", "country", "city", "updated_at")


def _shopify_orders():
    current: dict[str, str] = {}

    def transform(row: dict[str, str]) -> list[dict[str, str]]:
        out = dict(row)
        out["order_id"] = row.get("order_id", "").lstrip("#")
        if row.get("financial status") or row.get("created at"):  # the order's first row
            first, last = _split_name(row.get("billing name", ""))
            financial = (row.get("financial status") or "pending").lower()
            if row.get("cancelled at"):
                status = "cancelled"
            elif financial == "paid" and (row.get("fulfillment status") or "").lower() == "fulfilled":
                status = "completed"
            else:
                status = _SHOPIFY_STATUS.get(financial, financial)
            out.update(placed_at=_with_offset(row.get("created at", "")), status=status,
                       updated_at=_with_offset(row.get("cancelled at") or row.get("paid at") or ""),
                       first_name=first, last_name=last)
            current.clear()
            current.update({"order_id": out["order_id"], **{name: out.get(name, "") for name in _ORDER_LEVEL}})
        elif current.get("order_id") == out["order_id"]:  # a further line item: the order's fields again
            out.update({name: current[name] for name in _ORDER_LEVEL})
        return [out]

    return transform


#: Shopify admin → Orders → Export: one row per line item, the order's fields on its first row.
SHOPIFY_ORDERS = CsvMapping(
    name="shopify-orders",
    kind="orders",
    description="Shopify's order export (Orders → Export), one row per line item.",
    columns={
        "Name": "order_id",
        "Email": "email",
        "Currency": "currency",
        "Subtotal": "subtotal",
        "Shipping": "shipping",
        "Taxes": "tax",
        "Total": "total",
        "Discount Amount": "discount",
        "Lineitem quantity": "quantity",
        "Lineitem name": "product_name",
        "Lineitem price": "unit_price",
        "Lineitem sku": "sku",
        "Billing City": "city",
        "Billing Country": "country",
    },
    transform=_shopify_orders,
    fills=("placed_at", "status", "first_name", "last_name", "updated_at"),
    signature=("Name", "Financial Status", "Fulfillment Status", "Paid at", "Lineitem quantity", "Lineitem name",
               "Lineitem price", "Billing Country"),
)


# --- WooCommerce (the Customer / Order / Coupon Export extension's default formats) -----------------

def _woocommerce_customers():
    def transform(row: dict[str, str]) -> list[dict[str, str]]:
        out = dict(row)
        for ours, billing in (("first_name", "billing_first_name"), ("last_name", "billing_last_name"),
                              ("email", "billing_email")):
            out[ours] = row.get(ours) or row.get(billing, "")
        if out.get("customer_id") == "0":
            out["customer_id"] = ""
        return [out]

    return transform


WOOCOMMERCE_CUSTOMERS = CsvMapping(
    name="woocommerce-customers",
    kind="customers",
    description="the WooCommerce Customer / Order / Coupon Export extension's customers CSV (default format).",
    columns={
        "billing_phone": "phone",
        "billing_city": "city",
        "billing_country": "country",
        "date_registered": "created_at",
    },
    transform=_woocommerce_customers,
    fills=("first_name", "last_name", "email"),
    signature=("customer_id", "user_login", "date_registered", "billing_email", "billing_country", "total_spent",
               "order_count"),
)


def _packed(cell: str) -> list[dict[str, str]]:
    """The extension's packed items: ``key:value|key:value`` per item, items separated by ``;``."""
    items = []
    for item in filter(None, (part.strip() for part in cell.split(";"))):
        fields = {}
        for pair in item.split("|"):
            key, _, value = pair.partition(":")
            fields[key.strip().lower()] = value.strip()
        items.append(fields)
    return items


def _woocommerce_orders():
    def transform(row: dict[str, str]) -> list[dict[str, str]]:
        out = dict(row)
        out["status"] = row.get("status", "").removeprefix("wc-")
        if out.get("customer_id") == "0":  # a guest
            out["customer_id"] = ""
        refunds = _packed(row.get("refunds", ""))
        if refunds:
            try:
                out["refund_amount"] = str(sum(Decimal(r.get("amount") or "0") for r in refunds))
            except InvalidOperation:
                raise ValueError(f"refunds {row['refunds'][:80]!r} has an amount that is not a number") from None
            out["refunded_at"] = max(r.get("date", "") for r in refunds)
        if "line_items" not in row:  # the one-row-per-item format: renames did it all
            return [out]
        items = _packed(row["line_items"])
        if not items:
            return [out]
        rows = []
        for item in items:
            quantity, total = item.get("quantity", ""), item.get("total", "")
            price = item.get("subtotal") or total
            try:
                unit = str((Decimal(price) / Decimal(quantity or "1")).quantize(Decimal("0.01"))) if price else ""
            except (InvalidOperation, ArithmeticError):
                unit = ""  # the kind's reader reports the bad quantity or amount
            rows.append({**out, "line_id": item.get("id", ""), "product_id": item.get("product_id", ""),
                         "product_name": item.get("name", ""), "sku": item.get("sku", ""), "quantity": quantity,
                         "unit_price": unit, "line_total": total})
        return rows

    return transform


WOOCOMMERCE_ORDERS = CsvMapping(
    name="woocommerce-orders",
    kind="orders",
    description="the WooCommerce Customer / Order / Coupon Export extension's orders CSV (default format, one row "
                "per order with packed line_items, or one row per item).",
    columns={
        "order_date": "placed_at",
        "order_total": "total",
        "order_currency": "currency",
        "shipping_total": "shipping",
        "tax_total": "tax",
        "discount_total": "discount",
        "billing_email": "email",
        "billing_first_name": "first_name",
        "billing_last_name": "last_name",
        "billing_city": "city",
        "billing_country": "country",
        "item_id": "line_id",
        "item_product_id": "product_id",
        "item_name": "product_name",
        "item_sku": "sku",
        "item_quantity": "quantity",
        "item_total": "line_total",
    },
    transform=_woocommerce_orders,
    fills=("refund_amount", "refunded_at", "line_id", "product_id", "product_name", "sku", "quantity",
           "unit_price", "line_total"),
    signature=("order_id", "order_number", "order_date", "order_total", "order_currency", "billing_email",
               "shipping_total", "tax_total"),
)


# --- Mailchimp audience export (one file per status) ------------------------------------------------

_MAILCHIMP_COLUMNS = {
    "Email Address": "email",
    "First Name": "first_name",
    "Last Name": "last_name",
    "CC": "country",
    "TAGS": "tags",
}
_MAILCHIMP_SIGNATURE = ("Email Address", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LAST_CHANGED", "LEID",
                        "EUID")


def _mailchimp(state: str):
    def factory():
        def transform(row: dict[str, str]) -> list[dict[str, str]]:
            optin, confirm = _utc(row.get("optin_time", "")), _utc(row.get("confirm_time", ""))
            out = dict(row, email_consent=state, email_opted_in_at=optin, email_confirmed_at=confirm,
                       created_at=optin or confirm,
                       tags=",".join(t.strip().strip('"') for t in row.get("tags", "").split('","') if t.strip()))
            if state == "UNSUBSCRIBED":
                reason = row.get("unsub_reason_other") or row.get("unsub_reason", "")
                campaign = row.get("unsub_campaign_title", "")
                out.update(consent_updated_at=_utc(row.get("unsub_time", "")),
                           consent_reason=" ".join(filter(None, (reason, f"(campaign {campaign})" if campaign
                                                                 else ""))) or "unsubscribed in Mailchimp")
            elif state == "INVALID":
                campaign = row.get("clean_campaign_title", "")
                out.update(consent_updated_at=_utc(row.get("clean_time", "")),
                           consent_reason="cleaned by Mailchimp" + (f" (campaign {campaign})" if campaign else ""))
            else:
                out["consent_updated_at"] = _utc(row.get("last_changed", ""))
            return [out]

        return transform

    return factory


_MAILCHIMP_FILLS = ("email_consent", "email_opted_in_at", "email_confirmed_at", "created_at", "consent_updated_at",
                    "consent_reason")

MAILCHIMP_SUBSCRIBED = CsvMapping(
    name="mailchimp-subscribed", kind="customers",
    description="Mailchimp's audience export, subscribed members (subscribed_members_export_*.csv).",
    columns=_MAILCHIMP_COLUMNS, transform=_mailchimp("SUBSCRIBED"), fills=_MAILCHIMP_FILLS,
    signature=_MAILCHIMP_SIGNATURE,
)
MAILCHIMP_UNSUBSCRIBED = CsvMapping(
    name="mailchimp-unsubscribed", kind="customers",
    description="Mailchimp's audience export, unsubscribed members (unsubscribed_members_export_*.csv).",
    columns=_MAILCHIMP_COLUMNS, transform=_mailchimp("UNSUBSCRIBED"), fills=_MAILCHIMP_FILLS,
    signature=_MAILCHIMP_SIGNATURE + ("UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_REASON"),
)
MAILCHIMP_CLEANED = CsvMapping(
    name="mailchimp-cleaned", kind="customers",
    description="Mailchimp's audience export, cleaned members (cleaned_members_export_*.csv).",
    columns=_MAILCHIMP_COLUMNS, transform=_mailchimp("INVALID"), fills=_MAILCHIMP_FILLS,
    signature=_MAILCHIMP_SIGNATURE + ("CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE"),
)


# --- crm-graph's own customer export ---------------------------------------------------------------

_GUARDED = ("email", "first_name", "last_name", "city", "tags", "crm_ids")


def _crm_graph_export():
    def transform(row: dict[str, str]) -> list[dict[str, str]]:
        out = dict(row)
        for name in _GUARDED:  # the export's guard against spreadsheet formulas, undone
            value = out.get(name, "")
            if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
                out[name] = value[1:]
        ids = out.get("crm_ids", "").split()
        ours = next((i.partition(":")[2] for i in ids if i.startswith("csv:")), None)
        if ours is None:
            ours = ids[0] if ids else ""
        out["customer_id"] = "" if ours.startswith("email:") else ours  # email-only customers stay so
        out["tags"] = ",".join(t for t in out.get("tags", "").split("|") if t)
        return [out]

    return transform


CRM_GRAPH_EXPORT = CsvMapping(
    name="crm-graph-export", kind="customers",
    description="crm-graph's own customer export (customersExport), to re-import into another store.",
    columns={}, transform=_crm_graph_export, fills=("customer_id",),
    signature=("id", "crm_ids", "last_activity_at", "orders_count", "total_spent", "first_order_at", "last_order_at",
               "email_consent", "sms_consent"),
)

MAPPINGS = (SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS, WOOCOMMERCE_CUSTOMERS, WOOCOMMERCE_ORDERS, MAILCHIMP_SUBSCRIBED,
            MAILCHIMP_UNSUBSCRIBED, MAILCHIMP_CLEANED, CRM_GRAPH_EXPORT)
