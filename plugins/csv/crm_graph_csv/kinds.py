"""The CSV kinds: each a documented header and a streaming reader (see docs/csv_formats.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

from crm_graph.connectors import (
    ActivityRecord, ConsentRecord, CustomerRecord, CustomerRef, OrderLineRecord, OrderRecord, RecordError, RefundRecord,
    SpendRecord, TagRecord,
)
from crm_graph.connectors.csv import CsvColumn, CsvContext, CsvKind
from crm_graph.connectors.normalise import short, text
from crm_graph.models import ActivityEvent, Customer, CustomerIdentity, Order, OrderLine, Product
from crm_graph.models.enums import ActivityKind, Channel, ConsentState, OptInLevel
from crm_graph.services.ingest.customers import identity_key
from crm_graph_csv import fields as f
from crm_graph_csv.reader import BadRow, rows


CENT = Decimal("0.01")


def _length(column) -> int:
    """The length of a model's string column: the longest cell the import can store there."""
    return column.property.columns[0].type.length


#: The longest ids and emails, as the columns that store them (customer_identity, orders, order_line,
#: product all take 255-character external ids; emails 320).
_ID = _length(CustomerIdentity.external_id)
_SOURCE = _length(CustomerIdentity.source)
_LENGTHS = {
    "customer_id": _ID, "order_id": _length(Order.external_id), "line_id": _length(OrderLine.external_id),
    "product_id": _length(Product.external_id), "email": _length(Customer.email),
    "crm_id": _length(CustomerIdentity.source) + 1 + _ID, "external_id": _length(ActivityEvent.external_id),
}


def _col(name: str, required: bool, description: str) -> CsvColumn:
    return CsvColumn(name, required, description, _LENGTHS.get(name))


#: The `crm_id` column every kind that names a customer has (see `_ref`).
_CRM_ID = ("The customer's CRM ID in any source, as `source:external_id` (e.g. `woocommerce:123`): names a customer "
           "another source created; an unknown one rejects the row. Not together with customer_id.")


CUSTOMER_COLUMNS = (
    _col("customer_id", False, "The customer's id in your system (its CRM ID); without it the email is the id."),
    _col("email", False, "Email address (stored lower-cased)."),
    _col("phone", False, "Phone number; +48600100200 or national with `country`."),
    _col("first_name", False, "First name."),
    _col("last_name", False, "Last name."),
    _col("gender", False, "FEMALE, MALE, OTHER, UNKNOWN or REFUSED (also F / M)."),
    _col("country", False, "Country: ISO 3166 code (PL, POL) or English name (Poland); an unknown one rejects the row."),
    _col("city", False, "City."),
    _col("created_at", False, "When the customer was first seen (ISO 8601; no offset = store timezone)."),
    _col("email_consent", False, "Email consent state: SUBSCRIBED, UNSUBSCRIBED, NOT_SUBSCRIBED, PENDING... or yes/no."),
    _col("sms_consent", False, "SMS consent state, as `email_consent`."),
    _col("consent_updated_at", False, "When the consent states were given (default: created_at)."),
    _col("email_opted_in_at", False, "When the customer opted in to email (a SUBSCRIBED event, single opt-in)."),
    _col("email_confirmed_at", False, "When the opt-in was confirmed (double opt-in: PENDING at the opt-in, "
         "SUBSCRIBED with CONFIRMED_OPT_IN here)."),
    _col("consent_reason", False, "Why the consent states changed, e.g. `unsubscribe link`."),
    _col("tags", False, "Comma-separated tags; when the column is present it is the customer's full set."),
    _col("acquisition_channel", False, "First-touch channel, e.g. `google / cpc`."),
    _col("has_account", False, "Whether the customer has a store account: true/false (default: true when customer_id "
         "is given). `false` with a customer_id and no email or phone imports an anonymous visitor (not identified)."),
    _col("crm_id", False, "Update the customer another source created, named by its CRM ID `source:external_id` "
         "(e.g. `woocommerce:123`) instead of customer_id; an unknown one rejects the row."),
)

ORDER_COLUMNS = (
    _col("order_id", True, "The order's id on every row of the order; the first row gives the order's fields. Rows of an "
         "order may be anywhere in the file on PostgreSQL; on SQLite they must be consecutive."),
    _col("placed_at", True, "When the order was placed (ISO 8601; no offset = store timezone)."),
    _col("status", True, "PENDING, PAID, COMPLETED, CANCELLED, REFUNDED, FAILED (or the platform's word)."),
    _col("total", True, "Order total, e.g. 129.99."),
    _col("customer_id", False, "The buyer's customer_id (as in the customers file); empty for a guest."),
    _col("email", False, "Buyer's email; guests are matched by email, then phone."),
    _col("phone", False, "Buyer's phone."),
    _col("first_name", False, "Buyer's first name."),
    _col("last_name", False, "Buyer's last name."),
    _col("country", False, "Buyer's country, as customers' `country`."),
    _col("city", False, "Buyer's city."),
    _col("currency", False, "ISO 4217 currency (default: the store's)."),
    _col("subtotal", False, "Order subtotal."),
    _col("discount", False, "Order discount."),
    _col("shipping", False, "Shipping."),
    _col("tax", False, "Tax."),
    _col("channel", False, "The order's channel, e.g. `newsletter` or `google / cpc`."),
    _col("updated_at", False, "Last change of the order."),
    _col("refund_amount", False, "Amount refunded on the order (with refunded_at)."),
    _col("refunded_at", False, "When it was refunded."),
    _col("line_id", False, "The line's id (default: its position in the order)."),
    _col("product_id", False, "The product's id."),
    _col("product_name", False, "The product's name."),
    _col("sku", False, "SKU."),
    _col("quantity", False, "Quantity (default 1)."),
    _col("unit_price", False, "Unit price."),
    _col("line_total", False, "Line total (default quantity × unit price)."),
    _col("crm_id", False, _CRM_ID + " The PostgreSQL bulk path is not taken for a file with this column."),
)

CONSENT_COLUMNS = (
    _col("customer_id", False, "The customer's customer_id; or give email or phone."),
    _col("email", False, "The customer's email."),
    _col("phone", False, "The customer's phone."),
    _col("channel", True, "EMAIL or SMS."),
    _col("state", True, "SUBSCRIBED, PENDING, UNSUBSCRIBED, NOT_SUBSCRIBED, INVALID, REDACTED."),
    _col("occurred_at", True, "When the consent changed (ISO 8601; no offset = store timezone)."),
    _col("opt_in_level", False, "SINGLE_OPT_IN, CONFIRMED_OPT_IN or UNKNOWN."),
    _col("reason", False, "Free text, e.g. `unsubscribe link`."),
    _col("crm_id", False, _CRM_ID),
)

TAG_COLUMNS = (
    _col("customer_id", False, "The customer's customer_id; or give email or phone."),
    _col("email", False, "The customer's email."),
    _col("phone", False, "The customer's phone."),
    _col("tag", True, "The tag's name."),
    _col("applied_at", False, "When the tag was put on (default: the time of the import)."),
    _col("removed_at", False, "When it was taken off; empty while it is on."),
    _col("crm_id", False, _CRM_ID),
)

#: What the `activity` column accepts (case-insensitive) and the kind each word stands for.
ACTIVITY_KINDS: dict[str, ActivityKind] = {
    **{kind.value.lower(): kind for kind in ActivityKind},
    "pageview": ActivityKind.PAGE_VIEW, "page view": ActivityKind.PAGE_VIEW, "view": ActivityKind.PAGE_VIEW,
    "open": ActivityKind.EMAIL_OPEN, "email open": ActivityKind.EMAIL_OPEN,
    "click": ActivityKind.EMAIL_CLICK, "email click": ActivityKind.EMAIL_CLICK,
}

ACTIVITY_COLUMNS = (
    _col("crm_id", False, _CRM_ID),
    _col("customer_id", False, "The customer's customer_id; or give crm_id, email or phone."),
    _col("email", False, "The customer's email."),
    _col("phone", False, "The customer's phone."),
    _col("activity", True, "VISIT, PAGE_VIEW, EMAIL_OPEN, EMAIL_CLICK or ORDER (also visit, pageview, open, click)."),
    _col("occurred_at", True, "When it happened (ISO 8601; no offset = store timezone)."),
    _col("external_id", False, "The event's id, so that a re-import adds it once; default: the same activity of the "
         "same customer at the same instant is one event."),
)

SPEND_COLUMNS = (
    _col("channel", True, "The acquisition channel, as customers' and orders' `channel`."),
    _col("day", True, "The store-local day, YYYY-MM-DD."),
    _col("amount", True, "What was spent that day, in the store currency."),
)


def crm_id(value: str) -> tuple[str, str] | None:
    """``source:external_id`` (a CRM ID such as ``woocommerce:123``) as (source, external id); None when empty."""
    if not value:
        return None
    source, colon, external = value.partition(":")
    source, external = source.strip(), f.external_id(external.strip())
    if not (colon and source and external):
        raise ValueError(f"crm_id {short(value)!r} is not source:external_id such as woocommerce:123")
    if len(source) > _SOURCE:
        raise ValueError(f"crm_id {short(value)!r}: the source is longer than {_SOURCE} characters")
    if len(external) > _ID:
        raise ValueError(f"crm_id {short(value)!r}: the id is longer than {_ID} characters")
    return source, external


def _ref(get, tz_country: str | None = None) -> CustomerRef:
    """Who a row is about: its crm_id (another source's id), else its customer_id, else email or phone."""
    email, phone = f.email(get("email")), f.phone(get("phone"), tz_country)
    named = crm_id(get("crm_id"))
    if named:
        if get("customer_id"):
            raise ValueError("give either crm_id or customer_id, not both")
        return CustomerRef(external_id=named[1], email=email, phone=phone, source=named[0])
    return CustomerRef(external_id=f.external_id(get("customer_id")) or None, email=email, phone=phone)


def _indexed(columns):
    names = {column.name: i for i, column in enumerate(columns)}
    return lambda values: (lambda name: values[names[name]])


def _records(stream, mapping, columns, parse, present: set[str] | None = None) -> Iterator:
    getter = _indexed(columns)
    for line, values in rows(stream, mapping, columns, present):
        if isinstance(values, BadRow):
            yield RecordError(line=line, record=None, reason=str(values))
            continue
        try:
            for record in parse(getter(values), line):
                if hasattr(record, "line"):
                    record.line = line  # an ingestion reject (e.g. an unknown customer) names its line
                yield record
        except ValueError as exc:
            yield RecordError(line=line, record=None, reason=str(exc))


def read_customers(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Customers, with optional consent states and tags (the tags column, when present, is the full set)."""
    tz = ZoneInfo(context.timezone)
    now = datetime.now(timezone.utc)
    present: set[str] = set()

    def parse(get, line):
        country = f.country(get("country"))
        ref = _ref(get, country)
        external = ref.external_id or (f"email:{ref.email}" if ref.email else None)
        if not external:
            raise ValueError("customer_id, crm_id or email is required")
        account = f.boolean(get("has_account"), "has_account")
        if account is None:
            account = bool(ref.external_id) and not ref.source
        if len(external) > _ID:
            raise ValueError(f"the customer's id (its email without customer_id) is longer than {_ID} characters")
        created = f.instant(get("created_at"), "created_at", tz)
        tags = [t.strip()[:200] for t in get("tags").split(",") if t.strip()] if "tags" in present else None
        consents = []
        at = f.instant(get("consent_updated_at"), "consent_updated_at", tz) or created or now
        who = CustomerRef(external_id=external, source=ref.source)
        opted = f.instant(get("email_opted_in_at"), "email_opted_in_at", tz)
        confirmed = f.instant(get("email_confirmed_at"), "email_confirmed_at", tz)
        if confirmed and opted and opted < confirmed:
            consents.append(ConsentRecord(source=context.source, customer=who, channel=Channel.EMAIL,
                                          state=ConsentState.PENDING, occurred_at=opted, line=line))
        if opted or confirmed:
            consents.append(ConsentRecord(
                source=context.source, customer=who, channel=Channel.EMAIL, state=ConsentState.SUBSCRIBED,
                occurred_at=confirmed or opted,
                opt_in_level=OptInLevel.CONFIRMED_OPT_IN if confirmed else OptInLevel.SINGLE_OPT_IN, line=line))
        reason = text(get("consent_reason"), 500)
        for column, channel in (("email_consent", Channel.EMAIL), ("sms_consent", Channel.SMS)):
            if get(column):
                state = f.choice(get(column), column, f.CONSENT_STATES)
                if channel == Channel.EMAIL and state == ConsentState.SUBSCRIBED and (opted or confirmed):
                    continue  # the opt-in above is this state, with its time and level
                consents.append(ConsentRecord(source=context.source, customer=who, channel=channel, state=state,
                                              occurred_at=at, reason=reason, line=line))
        yield CustomerRecord(
            source=context.source, external_id=external, email=ref.email, phone=ref.phone,
            first_name=text(get("first_name"), 200), last_name=text(get("last_name"), 200),
            gender=f.choice(get("gender"), "gender", f.GENDERS, f.GENDERS[""]), country=country,
            city=text(get("city"), 200), has_account=account, created_at=created,
            acquisition_channel=text(get("acquisition_channel"), 200), tags=tags, updated_at=created,
            identity_source=ref.source, line=line,
        )
        yield from consents

    yield from _records(stream, mapping, CUSTOMER_COLUMNS, parse, present)


def read_orders(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Orders, one row per line item; consecutive rows with the same order_id are one order."""
    tz = ZoneInfo(context.timezone)
    getter = _indexed(ORDER_COLUMNS)
    index = {column.name: i for i, column in enumerate(ORDER_COLUMNS)}
    i_product, i_name, i_sku, i_price, i_total, i_quantity, i_line = (
        index[name] for name in ("product_id", "product_name", "sku", "unit_price", "line_total", "quantity", "line_id"))
    group: list[tuple[int, tuple]] = []

    def build(rows_: list[tuple[int, tuple]]):
        first_line, first = rows_[0]
        get = getter(first)
        try:
            country = f.country(get("country"))
            order = OrderRecord(
                source=context.source, external_id=get("order_id"), customer=_ref(get, country),
                status=f.choice(get("status"), "status", f.ORDER_STATUSES), raw_status=get("status")[:64],
                placed_at=f.instant(get("placed_at"), "placed_at", tz, required=True),
                updated_at=f.instant(get("updated_at"), "updated_at", tz),
                currency=(get("currency") or context.currency).upper()[:3], total=f.amount(get("total"), "total", required=True),
                subtotal=f.amount(get("subtotal"), "subtotal"), discount=f.amount(get("discount"), "discount"),
                shipping=f.amount(get("shipping"), "shipping"), tax=f.amount(get("tax"), "tax"),
                channel=text(get("channel"), 200), first_name=text(get("first_name"), 200),
                last_name=text(get("last_name"), 200), country=country, city=text(get("city"), 200),
                line=first_line,
            )
            if get("refund_amount"):
                order.refunds.append(RefundRecord(
                    external_id="csv", amount=f.amount(get("refund_amount"), "refund_amount"),
                    refunded_at=f.instant(get("refunded_at"), "refunded_at", tz, required=True)))
        except ValueError as exc:
            return None, [RecordError(first_line, f"order {first[0]}", str(exc))]
        errors = []
        for position, (line, values) in enumerate(rows_, start=1):
            product, name, sku, price, total = (values[i_product], values[i_name], values[i_sku], values[i_price],
                                                values[i_total])
            if not (product or name or sku or price or total or values[i_quantity]):
                continue  # an order row without a line (an order with no items listed)
            try:
                quantity = f.integer(values[i_quantity], "quantity", 1)
                unit_price = f.amount(price, "unit_price")
                line_total = f.amount(total, "line_total") if total else unit_price * quantity
                if not (product or name or sku or price or total):
                    # Only an order-level quantity: one line of the order's goods (subtotal, else total),
                    # on the order's first row; so the quantity is not lost.
                    line_total = ((order.subtotal if get("subtotal") else order.total)
                                  if position == 1 else line_total)
                    unit_price = (line_total / quantity if quantity > 0 else line_total).quantize(CENT, ROUND_HALF_UP)
                order.lines.append(OrderLineRecord(
                    external_id=values[i_line] or str(position), name=name[:500] or None,
                    product_external_id=product or None, sku=sku[:200] or None,
                    quantity=quantity, unit_price=unit_price, line_total=line_total))
            except ValueError as exc:
                errors.append(RecordError(line, f"order {values[0]}", str(exc)))
        if errors:
            bad = {error.line for error in errors}
            errors += [RecordError(line, f"order {first[0]}", f"order {first[0]} is rejected: its row at line "
                                   f"{min(bad)} is bad") for line, _ in rows_ if line not in bad]
            return None, errors
        return order, []

    for line, values in rows(stream, mapping, ORDER_COLUMNS):
        if isinstance(values, BadRow):
            yield RecordError(line=line, record=None, reason=str(values))
            continue
        if not values[0]:
            yield RecordError(line=line, record=None, reason="order_id is required")
            continue
        if group and group[0][1][0] != values[0]:
            order, errors = build(group)
            yield from errors
            if order is not None:
                yield order
            group = []
        group.append((line, values))
    if group:
        order, errors = build(group)
        yield from errors
        if order is not None:
            yield order


def order_rows(stream: BinaryIO, mapping: Mapping[str, str],
               present: set[str] | None = None) -> Iterator[tuple[int, tuple[str, ...] | BadRow]]:
    """The raw rows of an orders file, ``(line, values)`` indexed like `ORDER_COLUMNS` (for bulk imports);
    `present` is filled with the columns the header has before the first row."""
    return rows(stream, mapping, ORDER_COLUMNS, present)


def order_cell_error(column: str, value: str, context: CsvContext) -> str | None:
    """The reason `read_orders` rejects `value` in `column` with, or None when the cell is fine."""
    tz = ZoneInfo(context.timezone)
    checks = {
        "order_id": lambda: None if value else "order_id is required",
        "email": lambda: f.email(value),
        "phone": lambda: f.phone(value, None),
        "status": lambda: f.choice(value, "status", f.ORDER_STATUSES),
        "placed_at": lambda: f.instant(value, "placed_at", tz, required=True),
        "updated_at": lambda: f.instant(value, "updated_at", tz),
        "total": lambda: f.amount(value, "total", required=True),
        "refunded_at": lambda: f.instant(value, "refunded_at", tz, required=True),
        "quantity": lambda: f.integer(value, "quantity", 1),
        "country": lambda: f.country(value),
    }
    check = checks.get(column) or (lambda: f.amount(value, column))
    try:
        outcome = check()
    except ValueError as exc:
        return str(exc)
    return outcome if column == "order_id" else None


def read_consents(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Consent events, one per row."""
    tz = ZoneInfo(context.timezone)

    def parse(get, line):
        ref = _ref(get)
        if not ref:
            raise ValueError("crm_id, customer_id, email or phone is required")
        yield ConsentRecord(source=context.source, customer=ref, channel=f.channel(get("channel")),
                            state=f.choice(get("state"), "state", f.CONSENT_STATES),
                            occurred_at=f.instant(get("occurred_at"), "occurred_at", tz, required=True),
                            opt_in_level=f.opt_in(get("opt_in_level")), reason=text(get("reason"), 500), line=line)

    yield from _records(stream, mapping, CONSENT_COLUMNS, parse)


def read_tags(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Tags put on (and taken off) customers, one per row."""
    tz = ZoneInfo(context.timezone)
    now = datetime.now(timezone.utc)

    def parse(get, line):
        ref = _ref(get)
        if not ref:
            raise ValueError("crm_id, customer_id, email or phone is required")
        name = text(get("tag"), 200)
        if not name:
            raise ValueError("tag is required")
        yield TagRecord(source=context.source, customer=ref, name=name,
                        applied_at=f.instant(get("applied_at"), "applied_at", tz) or now,
                        removed_at=f.instant(get("removed_at"), "removed_at", tz), line=line)

    yield from _records(stream, mapping, TAG_COLUMNS, parse)


def read_activity(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Activity events (visits, page views, email opens and clicks), one per row; they move `last_activity_at`.

    Without an external_id an event is keyed by its kind, customer and instant, so a re-import adds nothing.
    """
    tz = ZoneInfo(context.timezone)

    def parse(get, line):
        ref = _ref(get)
        if not ref:
            raise ValueError("crm_id, customer_id, email or phone is required")
        kind = f.choice(get("activity"), "activity", ACTIVITY_KINDS)
        at = f.instant(get("occurred_at"), "occurred_at", tz, required=True)
        external = f.external_id(get("external_id"))
        if not external:
            who = f"{ref.source}:{ref.external_id}" if ref.source else identity_key(ref)
            digest = hashlib.sha256(f"{kind}|{who}|{at.isoformat()}".encode()).hexdigest()
            external = f"csv-activity:{digest}"
        yield ActivityRecord(source=context.source, external_id=external, customer=ref, activity=kind,
                             occurred_at=at, line=line)

    yield from _records(stream, mapping, ACTIVITY_COLUMNS, parse)


def read_spend(stream: BinaryIO, mapping: Mapping[str, str], context: CsvContext) -> Iterator:
    """Marketing spend per channel per day."""

    def parse(get, line):
        channel = text(get("channel"), 200)
        if not channel:
            raise ValueError("channel is required")
        yield SpendRecord(source=context.source, channel=channel, day=f.day(get("day"), "day"),
                          amount=f.amount(get("amount"), "amount", required=True))

    yield from _records(stream, mapping, SPEND_COLUMNS, parse)


KINDS = (
    CsvKind("customers", "Customers, with optional consent states and tags.", CUSTOMER_COLUMNS, read_customers),
    CsvKind("orders", "Orders, one row per line item.", ORDER_COLUMNS, read_orders, rows=order_rows,
            cell_error=order_cell_error, choices={"status": {k: str(v) for k, v in f.ORDER_STATUSES.items()}}),
    CsvKind("consents", "Consent events (the history of a customer's marketing consent).", CONSENT_COLUMNS,
            read_consents),
    CsvKind("tags", "Tags on customers.", TAG_COLUMNS, read_tags),
    CsvKind("activity", "Activity events: visits, page views, email opens and clicks.", ACTIVITY_COLUMNS,
            read_activity),
    CsvKind("marketing_spend", "Marketing spend per channel per day.", SPEND_COLUMNS, read_spend),
)
