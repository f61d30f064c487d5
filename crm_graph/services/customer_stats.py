"""Lifetime order figures kept on each customer row, for sorting and filtering the customer list.

`orders_count`, `total_spent` (net of refunds), `first_order_at` and `last_order_at` are derived
from counted orders. Whoever writes orders calls `refresh_customer_stats` afterwards, with the ids
it touched, so the figures never drift. One UPDATE does the work in the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES

_COUNTED = ", ".join(f"'{status}'" for status in COUNTED_ORDER_STATUSES)

_AGGREGATE = f"""
    SELECT o.customer_id AS customer_id,
           COUNT(*) AS orders_count,
           SUM(o.total) - COALESCE(SUM(r.refunded), 0) AS total_spent,
           MIN(o.placed_at) AS first_order_at,
           MAX(o.placed_at) AS last_order_at
    FROM orders o
    LEFT JOIN (
        SELECT order_id, SUM(amount) AS refunded FROM refund WHERE store_id = :store_id GROUP BY order_id
    ) r ON r.order_id = o.id
    WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL
      AND o.status IN ({_COUNTED}) {{customer_filter}}
    GROUP BY o.customer_id
"""


# PostgreSQL: each step materialised once, so that a plan made with stale statistics (right after a
# bulk load) cannot re-run the aggregate for every customer row.
_PG_REFRESH = f"""
    WITH o AS MATERIALIZED (
        SELECT id, customer_id, total, placed_at FROM orders
        WHERE store_id = :store_id AND customer_id IS NOT NULL AND status IN ({_COUNTED}) {{customer_filter}}
    ), r AS MATERIALIZED (
        SELECT order_id, SUM(amount) AS refunded FROM refund
        WHERE store_id = :store_id AND order_id IN (SELECT id FROM o) GROUP BY order_id
    ), s AS MATERIALIZED (
        SELECT o.customer_id, COUNT(*) AS orders_count, SUM(o.total) - COALESCE(SUM(r.refunded), 0) AS total_spent,
               MIN(o.placed_at) AS first_order_at, MAX(o.placed_at) AS last_order_at
        FROM o LEFT JOIN r ON r.order_id = o.id GROUP BY o.customer_id
    )
    UPDATE customer SET orders_count = s.orders_count, total_spent = s.total_spent,
           first_order_at = s.first_order_at, last_order_at = s.last_order_at
    FROM s WHERE customer.id = s.customer_id AND customer.store_id = :store_id
"""


def refresh_customer_stats(session: Session, store: Store, customer_ids: Iterable[int] | None = None) -> None:
    """Recompute the lifetime order figures of `customer_ids` (default: every customer of `store`)."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    if ids is not None and not ids:
        return
    chunks = [None] if ids is None else [ids[i : i + 5000] for i in range(0, len(ids), 5000)]
    for chunk in chunks:
        params: dict = {"store_id": store.id}
        customer_filter = target_filter = ""
        if chunk is not None and session.get_bind().dialect.name == "postgresql":
            # One array parameter: thousands of separate ones cost more to parse than the update.
            params["ids"] = list(chunk)
            customer_filter = "AND o.customer_id = ANY(CAST(:ids AS BIGINT[]))"
            target_filter = "AND customer.id = ANY(CAST(:ids AS BIGINT[]))"
        elif chunk is not None:
            names = [f"c{i}" for i in range(len(chunk))]
            params.update(zip(names, chunk))
            in_list = ", ".join(f":{name}" for name in names)
            customer_filter = f"AND o.customer_id IN ({in_list})"
            target_filter = f"AND customer.id IN ({in_list})"
        aggregate = _AGGREGATE.format(customer_filter=customer_filter)
        # Customers whose orders are gone (deleted, cancelled) go back to zero first.
        session.execute(
            text(
                "UPDATE customer SET orders_count = 0, total_spent = 0, first_order_at = NULL, "
                f"last_order_at = NULL WHERE store_id = :store_id AND orders_count <> 0 {target_filter}"
            ),
            params,
        )
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(_PG_REFRESH.format(customer_filter=customer_filter.replace("o.customer_id", "customer_id"))),
                            params)
            continue
        session.execute(
            text(
                "UPDATE customer SET orders_count = s.orders_count, total_spent = s.total_spent, "
                "first_order_at = s.first_order_at, last_order_at = s.last_order_at "
                f"FROM ({aggregate}) s WHERE customer.id = s.customer_id AND customer.store_id = :store_id"
            ),
            params,
        )
