"""WooCommerce resources (REST v3 and webhook bodies, which have the same shape) to crm-graph records.

Dates come from the ``*_gmt`` fields (UTC without an offset). Money is read from the decimal
strings. A guest order (``customer_id`` 0) names its buyer by billing email, then phone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from crm_graph.connectors import (
    ConsentRecord, CustomerRecord, CustomerRef, OrderLineRecord, OrderRecord, ProductRecord, RefundRecord,
)
from crm_graph.connectors import normalise as n
from crm_graph.models.enums import Channel, ConsentState, OrderStatus

SOURCE = "woocommerce"

STATUSES: dict[str, OrderStatus] = {
    "pending": OrderStatus.PENDING, "on-hold": OrderStatus.PENDING, "checkout-draft": OrderStatus.PENDING,
    "processing": OrderStatus.PAID, "completed": OrderStatus.COMPLETED, "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED, "failed": OrderStatus.FAILED,
}

_YES = {"yes", "1", "true", "on", "subscribed", "opt-in", "optin"}
_NO = {"no", "0", "false", "off", "unsubscribed", "opt-out", "optout"}


def _meta(resource: dict, key: str):
    for item in resource.get("meta_data") or ():
        if item.get("key") == key:
            return item.get("value")
    return None


def customer(resource: dict, consent_meta_key: str | None = None) -> list:
    """A customer account, and its consent when the shop keeps one under `consent_meta_key`."""
    billing = resource.get("billing") or {}
    country = n.country(billing.get("country"))
    external_id = str(resource["id"])
    modified = n.instant(resource.get("date_modified_gmt") or resource.get("date_created_gmt"))
    records: list = [CustomerRecord(
        source=SOURCE, external_id=external_id,
        email=n.email(resource.get("email") or billing.get("email")),
        phone=n.phone(billing.get("phone"), country),
        first_name=n.text(resource.get("first_name") or billing.get("first_name"), 200),
        last_name=n.text(resource.get("last_name") or billing.get("last_name"), 200),
        country=country, city=n.text(billing.get("city"), 200), has_account=True,
        created_at=n.instant(resource.get("date_created_gmt")), updated_at=modified,
    )]
    if consent_meta_key:
        value = _meta(resource, consent_meta_key)
        if value is not None and str(value).strip().lower() in _YES | _NO:
            state = ConsentState.SUBSCRIBED if str(value).strip().lower() in _YES else ConsentState.UNSUBSCRIBED
            records.append(ConsentRecord(source=SOURCE, customer=CustomerRef(external_id=external_id),
                                         channel=Channel.EMAIL, state=state, occurred_at=modified,
                                         reason=f"meta {consent_meta_key}"))
    return records


def _channel(resource: dict) -> str | None:
    source = _meta(resource, "_wc_order_attribution_utm_source")
    medium = _meta(resource, "_wc_order_attribution_utm_medium")
    if source:
        return f"{source} / {medium}" if medium else str(source)
    kind = _meta(resource, "_wc_order_attribution_source_type")
    if kind == "typein":
        return "direct"
    referrer = _meta(resource, "_wc_order_attribution_referrer")
    if referrer:
        return str(referrer).split("//")[-1].split("/")[0][:200]
    return None


def order_status(raw: str, custom: dict[str, str]) -> OrderStatus:
    """The normalised status of a WooCommerce status; a custom one must be in `custom`."""
    if raw in custom:
        return OrderStatus(custom[raw].upper())
    try:
        return STATUSES[raw]
    except KeyError:
        raise ValueError(f"order status {raw!r} is not a WooCommerce status; map it in status_map") from None


def order(resource: dict, refunds: list[dict] | None, custom_statuses: dict[str, str]) -> OrderRecord:
    """An order with its lines; `refunds` from the refunds endpoint (None: leave the stored ones)."""
    billing = resource.get("billing") or {}
    country = n.country(billing.get("country"))
    customer_id = resource.get("customer_id") or 0
    ref = CustomerRef(external_id=str(customer_id) if customer_id else None,
                      email=n.email(billing.get("email")), phone=n.phone(billing.get("phone"), country))
    lines = []
    subtotal = Decimal("0.00")
    for item in resource.get("line_items") or ():
        quantity = int(item.get("quantity") or 0)
        line_subtotal = n.money(item.get("subtotal"))
        subtotal += line_subtotal
        product = item.get("variation_id") or item.get("product_id")
        lines.append(OrderLineRecord(
            external_id=str(item["id"]), name=n.text(item.get("name"), 500),
            product_external_id=str(product) if product else None, sku=n.text(item.get("sku"), 200),
            quantity=quantity,
            unit_price=(line_subtotal / quantity).quantize(Decimal("0.01")) if quantity else line_subtotal,
            line_total=n.money(item.get("total"))))
    raw = resource.get("status") or ""
    return OrderRecord(
        source=SOURCE, external_id=str(resource["id"]), customer=ref,
        status=order_status(raw, custom_statuses), raw_status=raw,
        placed_at=n.instant(resource.get("date_created_gmt")), updated_at=n.instant(resource.get("date_modified_gmt")),
        currency=(resource.get("currency") or "").upper()[:3], total=n.money(resource.get("total")),
        subtotal=subtotal, discount=n.money(resource.get("discount_total")),
        shipping=n.money(resource.get("shipping_total")), tax=n.money(resource.get("total_tax")),
        channel=_channel(resource), first_name=n.text(billing.get("first_name"), 200),
        last_name=n.text(billing.get("last_name"), 200), country=country, city=n.text(billing.get("city"), 200),
        billing={key: value for key, value in billing.items() if value} or None,
        lines=lines,
        refunds=None if refunds is None else [refund(item) for item in refunds],
    )


def refund(resource: dict) -> RefundRecord:
    """A refund of the refunds endpoint (amount positive, date in UTC)."""
    return RefundRecord(external_id=str(resource["id"]), amount=abs(n.money(resource.get("amount"))),
                        refunded_at=n.instant(resource.get("date_created_gmt")),
                        reason=n.text(resource.get("reason"), 500))


def product(resource: dict) -> ProductRecord:
    """A product (its first category is the category)."""
    categories = resource.get("categories") or []
    return ProductRecord(source=SOURCE, external_id=str(resource["id"]), name=resource.get("name") or str(resource["id"]),
                         sku=n.text(resource.get("sku"), 200),
                         category=n.text(categories[0].get("name"), 200) if categories else None)


def modified(resource: dict) -> datetime | None:
    """The resource's last modification (UTC)."""
    return n.instant(resource.get("date_modified_gmt"))
