"""Consent events, activity events and marketing spend."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from crm_graph.connectors.records import ActivityRecord, ConsentRecord, SpendRecord
from crm_graph.models import ActivityEvent, ConsentEvent, MarketingSpend, Store
from crm_graph.models.types import utcnow
from crm_graph.services.ingest._common import StepResult, fetch_in, in_values, insert_many, is_postgres
from crm_graph.services.ingest.customers import unresolved

CE = ConsentEvent.__table__
AE = ActivityEvent.__table__
MS = MarketingSpend.__table__


def ingest_consents(session: Session, store: Store, source: str, records: Sequence[ConsentRecord],
                    resolver) -> StepResult:
    """Append the consent records that change a customer's state as of their instant.

    A record equal (state and opt-in level) to the latest event at or before its `occurred_at`
    repeats what is known and is counted as unchanged; so is an exact duplicate.
    """
    result = StepResult()
    erased = resolver.erased([record.customer for record in records])
    customer_ids, _ = resolver.resolve([record.customer for record in records], erased=erased)
    history: dict[tuple[int, str], list[tuple]] = {}
    for row in fetch_in(session, lambda chunk: select(
            CE.c.customer_id, CE.c.channel, CE.c.occurred_at, CE.c.state, CE.c.opt_in_level).where(
            CE.c.store_id == store.id, in_values(CE.c.customer_id, chunk)), [cid for cid in customer_ids if cid]):
        history.setdefault((row.customer_id, row.channel), []).append((row.occurred_at, row.state, row.opt_in_level))
    inserts = []
    now = utcnow()
    pairs = sorted(zip(records, customer_ids, erased), key=lambda pair: pair[0].occurred_at)
    for record, customer_id, gone in pairs:
        if customer_id is None:
            result.reject(f"{record.channel} consent", unresolved(record.customer, gone), record.line)
            continue
        events = history.setdefault((customer_id, str(record.channel)), [])
        before = [event for event in events if event[0] <= record.occurred_at]
        latest = max(before, key=lambda event: event[0]) if before else None
        state, level = str(record.state), str(record.opt_in_level)
        if (record.occurred_at, state) in {(e[0], e[1]) for e in events} or (
                latest is not None and latest[1] == state and latest[2] == level):
            result.counts["unchanged"] += 1
            continue
        events.append((record.occurred_at, state, level))
        inserts.append({"store_id": store.id, "customer_id": customer_id, "channel": str(record.channel),
                        "state": state, "opt_in_level": level, "occurred_at": record.occurred_at,
                        "source": source, "reason": record.reason, "actor": None, "created_at": now})
        result.counts["created"] += 1
    if inserts:
        insert_many(session, CE, inserts, skip_conflicts=True)
    return result


def ingest_activity(session: Session, store: Store, source: str, records: Sequence[ActivityRecord],
                    resolver) -> StepResult:
    """Insert activity events once each (keyed by source and external id).

    On PostgreSQL the events go in with ON CONFLICT DO NOTHING RETURNING: those already stored are
    the ones not returned, so no look-up of the batch's external ids is needed first.
    """
    result = StepResult()
    records = list({record.external_id: record for record in records}.values())
    erased = resolver.erased([record.customer for record in records])
    customer_ids, _ = resolver.resolve([record.customer for record in records], erased=erased)
    if is_postgres(session):
        inserts = []
        for record, customer_id, gone in zip(records, customer_ids, erased):
            if customer_id is None:
                result.reject(f"activity {record.external_id}", unresolved(record.customer, gone), record.line)
            else:
                inserts.append({"store_id": store.id, "customer_id": customer_id, "kind": str(record.activity),
                                "occurred_at": record.occurred_at, "source": source,
                                "external_id": record.external_id})
        inserted = insert_many(session, AE, inserts, skip_conflicts=True, returning=("customer_id",))
        result.activity_customers.update(row[0] for row in inserted)
        result.counts["created"] += len(inserted)
        result.counts["unchanged"] += len(inserts) - len(inserted)
        return result
    known = {row[0] for row in fetch_in(session, lambda chunk: select(AE.c.external_id).where(
        AE.c.store_id == store.id, AE.c.source == source, in_values(AE.c.external_id, chunk)),
        [record.external_id for record in records])}
    inserts = []
    for record, customer_id, gone in zip(records, customer_ids, erased):
        if customer_id is None:
            result.reject(f"activity {record.external_id}", unresolved(record.customer, gone), record.line)
        elif record.external_id in known:
            result.counts["unchanged"] += 1
        else:
            inserts.append({"store_id": store.id, "customer_id": customer_id, "kind": str(record.activity),
                            "occurred_at": record.occurred_at, "source": source, "external_id": record.external_id})
            result.activity_customers.add(customer_id)
            result.counts["created"] += 1
    if inserts:
        insert_many(session, AE, inserts, skip_conflicts=True)
    return result


def ingest_spend(session: Session, store: Store, records: Sequence[SpendRecord]) -> StepResult:
    """Upsert marketing spend per (channel, day)."""
    result = StepResult()
    latest = {(record.channel, record.day): record for record in records}
    if not latest:
        return result
    # The batch's channels within its days only: all the store's rows of those channels would make
    # every batch of a large import read what the earlier batches wrote.
    first_day, last_day = min(day for _, day in latest), max(day for _, day in latest)
    rows = fetch_in(session, lambda chunk: select(MS.c.id, MS.c.channel, MS.c.day, MS.c.amount).where(
        MS.c.store_id == store.id, in_values(MS.c.channel, chunk), MS.c.day.between(first_day, last_day)),
        sorted({channel for channel, _ in latest}))
    current = {(row.channel, row.day): row for row in rows}
    inserts, updates = [], []
    for key, record in latest.items():
        row = current.get(key)
        if row is None:
            inserts.append({"store_id": store.id, "channel": record.channel, "day": record.day,
                            "amount": record.amount})
            result.counts["created"] += 1
        elif row.amount != record.amount:
            updates.append({"sid": row.id, "v_amount": record.amount})
            result.counts["updated"] += 1
        else:
            result.counts["unchanged"] += 1
    if inserts:
        session.execute(MS.insert(), inserts)
    if updates:
        session.connection().execute(
            update(MS).where(MS.c.id == bindparam("sid")).values(amount=bindparam("v_amount")), updates)
    return result
