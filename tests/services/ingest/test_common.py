"""Bulk helpers: IN lists as arrays, ids drawn in order, when a long load refreshes statistics."""

from sqlalchemy import select
from sqlmodel import Session

from crm_graph.models import Tag
from crm_graph.services.ingest import AnalyzePolicy
from crm_graph.services.ingest._common import fetch_in, in_values, insert_returning_ids
from tests.factories import utc


def test_in_values_and_ids_in_order_on_both_databases(engine, store):
    table = Tag.__table__
    rows = [{"store_id": store.id, "name": f"t{i}", "created_at": utc(2026, 1, 1)} for i in range(120)]
    with Session(engine) as session:
        ids = insert_returning_ids(session, table, rows)  # 120 rows: COPY on PostgreSQL
        session.commit()
        assert len(set(ids)) == 120 and ids == sorted(ids)
        found = dict(fetch_in(session, lambda chunk: select(table.c.name, table.c.id).where(
            table.c.store_id == store.id, in_values(table.c.name, chunk)), [f"t{i}" for i in range(0, 120, 7)]))
    assert found == {f"t{i}": ids[i] for i in range(0, 120, 7)}


def test_analyze_on_the_first_batch_then_each_time_the_load_doubles():
    policy = AnalyzePolicy()
    # Batches of 1000: before writing 0 (first), then once 2000, 6000 and 14000 records are written.
    assert [policy.due(1000) for _ in range(15)] == [
        True, False, True, False, False, False, True, False, False, False, False, False, False, False, True]
