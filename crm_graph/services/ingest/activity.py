"""Derived customer columns after a batch: `last_activity_at`, first seen, first-touch acquisition channel.

`last_activity_at` only moves forward: it becomes the latest of its current value, the customer's
latest order and latest activity event. `created_at` (first seen) moves back to the first order when
that is earlier. A customer without an acquisition channel takes the channel of its first order that
has one. All is done in SQL for the customers a batch touched. On PostgreSQL each aggregate is a
materialised CTE, so that a plan made with stale statistics right after a bulk load cannot re-run it
for every customer row; SQLite gets the same statements with derived tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.services.ingest._common import chunks, is_postgres

_LATEST = (
    "SELECT customer_id, MAX({column}) AS value FROM {table} "
    "WHERE store_id = :store_id AND customer_id {ids} GROUP BY customer_id",
    "UPDATE customer SET last_activity_at = s.value FROM {s} WHERE customer.id = s.customer_id "
    "AND customer.store_id = :store_id AND (customer.last_activity_at IS NULL OR customer.last_activity_at < s.value)",
)

_FIRST_SEEN = (
    "SELECT customer_id, MIN(placed_at) AS value FROM orders "
    "WHERE store_id = :store_id AND customer_id {ids} GROUP BY customer_id",
    "UPDATE customer SET created_at = s.value FROM {s} WHERE customer.id = s.customer_id "
    "AND customer.store_id = :store_id AND customer.created_at > s.value",
)

_PG_CHANNEL = (
    "SELECT DISTINCT ON (customer_id) customer_id, channel AS value FROM orders "
    "WHERE store_id = :store_id AND customer_id {ids} AND channel IS NOT NULL ORDER BY customer_id, placed_at, id",
    "UPDATE customer SET acquisition_channel = s.value FROM {s} WHERE customer.id = s.customer_id "
    "AND customer.store_id = :store_id AND customer.acquisition_channel IS NULL",
)

_SQLITE_CHANNEL = """
    UPDATE customer SET acquisition_channel = (
        SELECT o.channel FROM orders o
        WHERE o.store_id = :store_id AND o.customer_id = customer.id AND o.channel IS NOT NULL
        ORDER BY o.placed_at, o.id LIMIT 1)
    WHERE customer.store_id = :store_id AND customer.id {ids} AND customer.acquisition_channel IS NULL
      AND EXISTS (SELECT 1 FROM orders o WHERE o.store_id = :store_id AND o.customer_id = customer.id
                  AND o.channel IS NOT NULL)
"""


def _statement(parts: tuple[str, str], ids: str, postgres: bool, **names: str) -> str:
    select, update = parts
    select = select.format(ids=ids, **names)
    if postgres:
        return f"WITH s AS MATERIALIZED ({select}) " + update.format(s="s")
    return update.format(s=f"({select}) s")


def refresh_activity(session: Session, store: Store, customer_ids: Iterable[int]) -> None:
    """Move `last_activity_at` forward, first seen back, and fill the acquisition channel of `customer_ids`."""
    postgres = is_postgres(session)
    for chunk in chunks(sorted(set(customer_ids)), 20_000 if postgres else 2000):
        if postgres:  # one array parameter instead of thousands
            params = {"store_id": store.id, "ids": list(chunk)}
            ids = "= ANY(CAST(:ids AS BIGINT[]))"
        else:
            params = {"store_id": store.id, **{f"c{i}": cid for i, cid in enumerate(chunk)}}
            ids = "IN (" + ", ".join(f":c{i}" for i in range(len(chunk))) + ")"
        statements = [
            _statement(_LATEST, ids, postgres, column="placed_at", table="orders"),
            _statement(_LATEST, ids, postgres, column="occurred_at", table="activity_event"),
            _statement(_FIRST_SEEN, ids, postgres),
            _statement(_PG_CHANNEL, ids, postgres) if postgres else _SQLITE_CHANNEL.format(ids=ids),
        ]
        for statement in statements:
            session.execute(text(statement), params)
