"""Helpers for connector and ingestion tests: database snapshots and a tiny in-process connector."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

#: Every table holding a store's synced data.
STORE_TABLES = ("customer", "customer_identity", "consent_event", "product", "orders", "order_line", "refund",
                "activity_event", "tag", "customer_tag", "marketing_spend", "sync_cursor", "webhook_delivery")


def snapshot(engine: Engine, store_id: int, *, tables: tuple[str, ...] = STORE_TABLES,
             without: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of the store's tables, sorted, for before/after comparisons."""
    out = {}
    with engine.connect() as connection:
        for table in tables:
            result = connection.execute(text(f"SELECT * FROM {table} WHERE store_id = :s"), {"s": store_id})
            keep = [i for i, name in enumerate(result.keys()) if name not in without]
            out[table] = sorted((tuple(row[i] for i in keep) for row in result), key=repr)
    return out


def rows(engine: Engine, sql: str, **params) -> list[tuple]:
    """The rows of a query (for assertions)."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def count(engine: Engine, table: str, store_id: int) -> int:
    """Rows of `table` in the store."""
    return rows(engine, f"SELECT COUNT(*) FROM {table} WHERE store_id = :s", s=store_id)[0][0]
