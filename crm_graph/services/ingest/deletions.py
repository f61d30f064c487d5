"""Deletions the platform reports: orders and products go; a customer goes with its last identity."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlmodel import Session

from crm_graph.connectors.records import DeletionRecord
from crm_graph.models import Customer, CustomerIdentity, Order, Product, Store
from crm_graph.services.ingest._common import StepResult, fetch_in, in_values

O = Order.__table__  # noqa: E741
P = Product.__table__
I = CustomerIdentity.__table__  # noqa: E741
C = Customer.__table__


def apply_deletions(session: Session, store: Store, source: str, records: Sequence[DeletionRecord]) -> StepResult:
    """Delete what the records name; deleting what is already gone is counted as unchanged."""
    result = StepResult()
    by_entity: dict[str, list[str]] = {}
    for record in records:
        by_entity.setdefault(record.entity, []).append(record.external_id)
    if orders := by_entity.pop("order", None):
        rows = fetch_in(session, lambda chunk: select(O.c.id, O.c.customer_id).where(
            O.c.store_id == store.id, O.c.source == source, in_values(O.c.external_id, chunk)), orders)
        result.touched_customers |= {customer_id for _, customer_id in rows if customer_id}
        for start in range(0, len(rows), 2000):
            session.execute(delete(O).where(O.c.id.in_([row[0] for row in rows[start:start + 2000]])))
        _count(result, len(set(orders)), len(rows))
    if products := by_entity.pop("product", None):
        rows = fetch_in(session, lambda chunk: select(P.c.id).where(
            P.c.store_id == store.id, P.c.source == source, in_values(P.c.external_id, chunk)), products)
        if rows:
            session.execute(delete(P).where(P.c.id.in_([row[0] for row in rows])))
        _count(result, len(set(products)), len(rows))
    if customers := by_entity.pop("customer", None):
        rows = fetch_in(session, lambda chunk: select(I.c.id, I.c.customer_id).where(
            I.c.store_id == store.id, I.c.source == source, in_values(I.c.external_id, chunk)), customers)
        if rows:
            customer_ids = {customer_id for _, customer_id in rows}
            session.execute(delete(I).where(I.c.id.in_([row[0] for row in rows])))
            still_known = {cid for (cid,) in fetch_in(session, lambda chunk: select(I.c.customer_id).where(
                in_values(I.c.customer_id, chunk)).group_by(I.c.customer_id).having(func.count() > 0), customer_ids)}
            gone = customer_ids - still_known
            if gone:
                session.execute(delete(C).where(C.c.store_id == store.id, in_values(C.c.id, gone)))
        _count(result, len(set(customers)), len(rows))
    for entity, ids in by_entity.items():
        for external_id in ids:
            result.reject(f"{entity} {external_id}", f"cannot delete a {entity!r}; only customer, order, product")
    return result


def _count(result: StepResult, asked: int, deleted: int) -> None:
    result.counts["deleted"] += deleted
    result.counts["unchanged"] += asked - deleted
