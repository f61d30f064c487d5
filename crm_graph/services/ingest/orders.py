"""Orders with their lines and refunds, and products: upserts on (store, source, external id).

An order's lines and refunds are compared with the stored ones and replaced only when they differ,
so that an order seen twice changes nothing. Buyers are resolved (and created when new) through
`CustomerResolver`; products named by lines but not synced yet are created from the line's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from crm_graph.connectors.records import OrderRecord, ProductRecord
from crm_graph.models import Order, OrderLine, Product, Refund, Store
from crm_graph.models.types import utcnow
from crm_graph.services.ingest._common import (
    StepResult, bulk_insert, fetch_in, in_values, insert_for, insert_returning_ids,
)
from crm_graph.services.ingest.customers import Contact, CustomerResolver, unresolved

O = Order.__table__  # noqa: E741
L = OrderLine.__table__
R = Refund.__table__
P = Product.__table__

_ORDER_FIELDS = ("customer_id", "status", "raw_status", "placed_at", "updated_at", "currency", "total", "subtotal",
                 "discount", "shipping", "tax", "channel", "email", "phone", "billing")
_LINE_FIELDS = ("external_id", "product_id", "name", "sku", "quantity", "unit_price", "line_total")
_REFUND_FIELDS = ("external_id", "amount", "refunded_at", "reason")


def upsert_products(session: Session, store: Store, source: str, records: Sequence[ProductRecord]) -> StepResult:
    """Create or update products; unchanged ones are only counted."""
    result = StepResult()
    latest = {record.external_id: record for record in records}
    rows = fetch_in(session, lambda chunk: select(P.c.id, P.c.external_id, P.c.name, P.c.sku, P.c.category).where(
        P.c.store_id == store.id, P.c.source == source, in_values(P.c.external_id, chunk)), latest)
    current = {row.external_id: row for row in rows}
    now = utcnow()
    inserts, updates = [], []
    for external_id, record in latest.items():
        values = {"name": record.name[:500], "sku": record.sku, "category": record.category}
        row = current.get(external_id)
        if row is None:
            inserts.append({"store_id": store.id, "source": source, "external_id": external_id, **values,
                            "created_at": now, "updated_at": now})
            result.counts["created"] += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            updates.append({"pid": row.id, "v_name": values["name"], "v_sku": record.sku,
                            "v_category": record.category, "v_now": now})
            result.counts["updated"] += 1
        else:
            result.counts["unchanged"] += 1
    if inserts:
        session.execute(P.insert(), inserts)
    if updates:
        session.connection().execute(update(P).where(P.c.id == bindparam("pid")).values(
            name=bindparam("v_name"), sku=bindparam("v_sku"), category=bindparam("v_category"),
            updated_at=bindparam("v_now")), updates)
    return result


def _product_ids(session: Session, store: Store, source: str, records: Sequence[OrderRecord]) -> dict[str, int]:
    names: dict[str, tuple[str, str | None]] = {}
    for record in records:
        for line in record.lines:
            if line.product_external_id and line.product_external_id not in names:
                names[line.product_external_id] = (line.name or line.product_external_id, line.sku)
    if not names:
        return {}
    build = lambda chunk: select(P.c.external_id, P.c.id).where(  # noqa: E731
        P.c.store_id == store.id, P.c.source == source, in_values(P.c.external_id, chunk))
    found = dict(fetch_in(session, build, names))
    missing = [key for key in names if key not in found]
    if missing:
        now = utcnow()
        session.execute(insert_for(session, P).on_conflict_do_nothing(), [
            {"store_id": store.id, "source": source, "external_id": key, "name": names[key][0][:500],
             "sku": names[key][1], "category": None, "created_at": now, "updated_at": now} for key in missing])
        found.update(fetch_in(session, build, missing))
    return found


def upsert_orders(session: Session, store: Store, source: str, records: Sequence[OrderRecord],
                  resolver: CustomerResolver, channel_for) -> StepResult:
    """Create or update orders, their lines and refunds; count each order created/updated/unchanged."""
    result = StepResult()
    records = list({record.external_id: record for record in records}.values())
    contacts = [Contact(r.first_name, r.last_name, r.country, r.city, r.placed_at, bool(r.customer.external_id))
                for r in records]
    erased = resolver.erased([record.customer for record in records])
    customer_ids, _ = resolver.resolve([record.customer for record in records], contacts, create=True, erased=erased)
    # An order naming its buyer by another source's id (a CRM ID) the store does not know is rejected.
    unknown = {i for i, (record, customer_id, gone) in enumerate(zip(records, customer_ids, erased))
               if customer_id is None and not gone and resolver.foreign(record.customer)}
    for i in sorted(unknown):
        result.reject(f"order {records[i].external_id}", unresolved(records[i].customer, False), records[i].line)
    if unknown:
        records, customer_ids, erased, contacts = (
            [item for i, item in enumerate(items) if i not in unknown]
            for items in (records, customer_ids, erased, contacts))
    products = _product_ids(session, store, source, records)
    rows = fetch_in(session, lambda chunk: select(O.c.id, O.c.external_id, *[O.c[f] for f in _ORDER_FIELDS]).where(
        O.c.store_id == store.id, O.c.source == source, in_values(O.c.external_id, chunk)), [r.external_id for r in records])
    current = {row.external_id: row for row in rows}

    now = utcnow()
    new_orders, new_children, changed, compare = [], [], [], []
    for record, customer_id, gone in zip(records, customer_ids, erased):
        values = {
            "customer_id": customer_id, "status": str(record.status), "raw_status": record.raw_status,
            "placed_at": record.placed_at, "updated_at": record.updated_at, "currency": record.currency,
            "total": record.total, "subtotal": record.subtotal, "discount": record.discount,
            "shipping": record.shipping, "tax": record.tax, "channel": channel_for(record),
            "email": record.customer.email, "phone": record.customer.phone, "billing": record.billing,
        }
        if gone:  # an erased person's order: the amounts stay store history, the contact copies do not
            values.update(email=None, phone=None, billing=None)
            if record.external_id in current:
                values["customer_id"] = current[record.external_id].customer_id
        lines = [(line.external_id, products.get(line.product_external_id), line.name and line.name[:500], line.sku,
                  line.quantity, line.unit_price, line.line_total) for line in record.lines]
        refunds = None if record.refunds is None else [
            (refund.external_id, refund.amount, refund.refunded_at, refund.reason) for refund in record.refunds]
        row = current.get(record.external_id)
        if row is None:
            if customer_id is not None:
                result.touched_customers.add(customer_id)
            new_orders.append({"store_id": store.id, "source": source, "external_id": record.external_id,
                               **values, "created_at": now})
            new_children.append((lines, refunds))
            result.counts["created"] += 1
            continue
        differs = {key: value for key, value in values.items() if getattr(row, key) != value}
        if differs:
            changed.append({"oid": row.id, **{f"v_{k}": v for k, v in differs.items()}, "_keys": tuple(differs)})
        compare.append((row.id, bool(differs), lines, refunds, {row.customer_id, customer_id} - {None}))

    line_rows: list[dict] = []
    refund_rows: list[dict] = []
    if new_orders:
        ids = insert_returning_ids(session, O, new_orders)
        for order_id, (lines, refunds) in zip(ids, new_children):
            line_rows.extend(_line_row(store, order_id, line) for line in lines)
            refund_rows.extend(_refund_row(store, order_id, refund) for refund in refunds or ())
    _apply_order_updates(session, changed)
    if compare:
        stale_lines, stale_refunds = _compare_children(session, store, compare, line_rows, refund_rows)
        for order_id, was_changed, _, _, buyers in compare:
            touched = order_id in stale_lines or order_id in stale_refunds
            if was_changed or touched:
                result.counts["updated"] += 1
                result.touched_customers |= buyers  # the old buyer too, when the order changed hands
            else:
                result.counts["unchanged"] += 1  # nothing to recompute for an unchanged order
        if stale_lines:
            session.execute(delete(L).where(L.c.store_id == store.id, in_values(L.c.order_id, stale_lines)))
        if stale_refunds:
            session.execute(delete(R).where(R.c.store_id == store.id, in_values(R.c.order_id, stale_refunds)))
    bulk_insert(session, L, line_rows, ("store_id", "order_id", *_LINE_FIELDS))
    bulk_insert(session, R, refund_rows)
    return result


def _line_row(store: Store, order_id: int, line: tuple) -> dict:
    return {"store_id": store.id, "order_id": order_id, **dict(zip(_LINE_FIELDS, line))}


def _refund_row(store: Store, order_id: int, refund: tuple) -> dict:
    return {"store_id": store.id, "order_id": order_id, **dict(zip(_REFUND_FIELDS, refund))}


def _compare_children(session: Session, store: Store, compare: list, line_rows: list, refund_rows: list):
    """Which existing orders' lines / refunds differ from the records; queue their replacements."""
    order_ids = [order_id for order_id, *_ in compare]
    stored_lines: dict[int, list[tuple]] = {}
    for row in fetch_in(session, lambda chunk: select(L.c.order_id, *[L.c[f] for f in _LINE_FIELDS]).where(
            L.c.store_id == store.id, in_values(L.c.order_id, chunk)).order_by(L.c.order_id, L.c.id), order_ids):
        stored_lines.setdefault(row[0], []).append(tuple(row[1:]))
    stored_refunds: dict[int, list[tuple]] = {}
    for row in fetch_in(session, lambda chunk: select(R.c.order_id, *[R.c[f] for f in _REFUND_FIELDS]).where(
            R.c.store_id == store.id, in_values(R.c.order_id, chunk)).order_by(R.c.order_id, R.c.id), order_ids):
        stored_refunds.setdefault(row[0], []).append(tuple(row[1:]))
    stale_lines, stale_refunds = set(), set()
    for order_id, _, lines, refunds, _ in compare:
        if stored_lines.get(order_id, []) != lines:
            stale_lines.add(order_id)
            line_rows.extend(_line_row(store, order_id, line) for line in lines)
        if refunds is not None and sorted(stored_refunds.get(order_id, []), key=_key) != sorted(refunds, key=_key):
            stale_refunds.add(order_id)
            refund_rows.extend(_refund_row(store, order_id, refund) for refund in refunds)
    return stale_lines, stale_refunds


def _key(refund: tuple) -> str:
    return refund[0]


def _apply_order_updates(session: Session, changed: list[dict]) -> None:
    groups: dict[tuple, list[dict]] = {}
    for change in changed:
        keys = change.pop("_keys")
        groups.setdefault(keys, []).append(change)
    for keys, rows in groups.items():
        values = {key: bindparam(f"v_{key}") for key in keys}
        session.connection().execute(update(O).where(O.c.id == bindparam("oid")).values(values), rows)
