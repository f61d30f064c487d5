"""Tags on customers: each (customer, tag) is on from `applied_at` until `removed_at`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from crm_graph.connectors.records import CustomerRecord, TagRecord
from crm_graph.models import CustomerTag, Store, Tag
from crm_graph.models.types import utcnow
from crm_graph.services.ingest._common import StepResult, fetch_in, in_values, insert_for

T = Tag.__table__
CT = CustomerTag.__table__


def tag_ids(session: Session, store: Store, names: Sequence[str]) -> dict[str, int]:
    """The id of each tag name, creating the tags the store does not have yet."""
    names = list(dict.fromkeys(names))
    rows = fetch_in(session, lambda chunk: select(T.c.name, T.c.id).where(
        T.c.store_id == store.id, in_values(T.c.name, chunk)), names)
    found = dict(rows)
    missing = [name for name in names if name not in found]
    if missing:
        now = utcnow()
        session.execute(insert_for(session, T).on_conflict_do_nothing(),
                        [{"store_id": store.id, "name": name, "created_at": now} for name in missing])
        found.update(fetch_in(session, lambda chunk: select(T.c.name, T.c.id).where(
            T.c.store_id == store.id, in_values(T.c.name, chunk)), missing))
    return found


def _open_tags(session: Session, store: Store, customer_ids, source: str) -> dict[tuple[int, int], int]:
    rows = fetch_in(session, lambda chunk: select(CT.c.customer_id, CT.c.tag_id, CT.c.id).where(
        CT.c.store_id == store.id, in_values(CT.c.customer_id, chunk), CT.c.removed_at.is_(None),
        CT.c.source == source), customer_ids)
    return {(customer_id, tag_id): row_id for customer_id, tag_id, row_id in rows}


def _close(session: Session, row_ids: dict[int, datetime]) -> None:
    if row_ids:
        session.connection().execute(
            update(CT).where(CT.c.id == bindparam("rid")).values(removed_at=bindparam("at")),
            [{"rid": rid, "at": at} for rid, at in row_ids.items()])


def sync_customer_tags(session: Session, store: Store, source: str,
                       tagged: Sequence[tuple[int, CustomerRecord]]) -> StepResult:
    """Make each customer's open tags of `source` exactly `record.tags`: open the missing, close the others.

    Only tags the same source put on through customer records are closed; tags from tag records
    (stored with source ``<source>/tags``) and from other sources are left alone.
    """
    result = StepResult()
    ids = tag_ids(session, store, [name for _, record in tagged for name in record.tags])
    open_now = _open_tags(session, store, [cid for cid, _ in tagged], source)
    by_customer: dict[int, set[int]] = {}
    for customer_id, tag_id in open_now:
        by_customer.setdefault(customer_id, set()).add(tag_id)
    inserts, closes = [], {}
    now = utcnow()
    for customer_id, record in tagged:
        wanted = {ids[name] for name in record.tags}
        have = by_customer.get(customer_id, set())
        at = record.updated_at or now
        for tag_id in wanted - have:
            inserts.append({"store_id": store.id, "customer_id": customer_id, "tag_id": tag_id,
                            "applied_at": at, "removed_at": None, "source": source})
        for tag_id in have - wanted:
            closes[open_now[(customer_id, tag_id)]] = at
        if wanted != have:
            result.touched_customers.add(customer_id)
        by_customer[customer_id] = wanted
    if inserts:
        session.execute(CT.insert(), inserts)
    _close(session, closes)
    return result


def ingest_tags(session: Session, store: Store, source: str, records: Sequence[TagRecord], resolver) -> StepResult:
    """Apply tag records; a period is identified by (customer, tag, applied_at), so re-imports change nothing.

    A record without `removed_at` puts the tag on unless it is on already; one with `removed_at` closes
    the period that started at `applied_at` (or the open one), or records the closed period.
    """
    result = StepResult()
    customer_ids, _ = resolver.resolve([record.customer for record in records])
    ids = tag_ids(session, store, [record.name for record in records])
    tag_source = f"{source}/tags"[:64]
    rows = fetch_in(session, lambda chunk: select(
        CT.c.id, CT.c.customer_id, CT.c.tag_id, CT.c.applied_at, CT.c.removed_at).where(
        CT.c.store_id == store.id, in_values(CT.c.customer_id, chunk), CT.c.source == tag_source),
        [cid for cid in customer_ids if cid])
    periods: dict[tuple[int, int], list[dict]] = {}
    for row in rows:
        periods.setdefault((row.customer_id, row.tag_id), []).append(
            {"id": row.id, "applied_at": row.applied_at, "removed_at": row.removed_at})
    inserts, closes = [], {}
    for record, customer_id in zip(records, customer_ids):
        if customer_id is None:
            result.reject(f"tag {record.name!r}", "no customer with this id, email or phone in the store",
                          line=record.line)
            continue
        mine = periods.setdefault((customer_id, ids[record.name]), [])
        same = next((p for p in mine if p["applied_at"] == record.applied_at), None)
        current = next((p for p in mine if p["removed_at"] is None), None)
        if record.removed_at is None:
            if same is not None or current is not None:
                result.counts["unchanged"] += 1
                continue
        else:
            target = same or current
            if target is not None:
                if target["removed_at"] == record.removed_at:
                    result.counts["unchanged"] += 1
                    continue
                target["removed_at"] = record.removed_at
                if target["id"] is None:
                    target["row"]["removed_at"] = record.removed_at
                else:
                    closes[target["id"]] = record.removed_at
                result.counts["updated"] += 1
                continue
        row = {"store_id": store.id, "customer_id": customer_id, "tag_id": ids[record.name],
               "applied_at": record.applied_at, "removed_at": record.removed_at, "source": tag_source}
        inserts.append(row)
        mine.append({"id": None, "applied_at": record.applied_at, "removed_at": record.removed_at, "row": row})
        result.counts["created"] += 1
    if inserts:
        session.execute(CT.insert(), inserts)
    _close(session, closes)
    return result
