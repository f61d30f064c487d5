"""Derived customer columns after a batch: `last_activity_at`, first seen, first-touch acquisition channel.

`created_at` (first seen) moves back to the first order when that is earlier.
All are computed in SQL for the customers a batch touched. `last_activity_at` only moves forward:
it becomes the latest of its current value, the customer's latest order and latest activity event.
A customer without an acquisition channel takes the channel of its first order that has one.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.services.ingest._common import chunks

_LATEST = """
    UPDATE customer SET last_activity_at = s.latest
    FROM (SELECT customer_id, MAX({column}) AS latest FROM {table}
          WHERE store_id = :store_id AND customer_id IN ({ids}) GROUP BY customer_id) s
    WHERE customer.id = s.customer_id AND customer.store_id = :store_id
      AND (customer.last_activity_at IS NULL OR customer.last_activity_at < s.latest)
"""

_FIRST_SEEN = """
    UPDATE customer SET created_at = s.first_order
    FROM (SELECT customer_id, MIN(placed_at) AS first_order FROM orders
          WHERE store_id = :store_id AND customer_id IN ({ids}) GROUP BY customer_id) s
    WHERE customer.id = s.customer_id AND customer.store_id = :store_id AND customer.created_at > s.first_order
"""

_CHANNEL = """
    UPDATE customer SET acquisition_channel = (
        SELECT o.channel FROM orders o
        WHERE o.store_id = :store_id AND o.customer_id = customer.id AND o.channel IS NOT NULL
        ORDER BY o.placed_at, o.id LIMIT 1)
    WHERE customer.store_id = :store_id AND customer.id IN ({ids}) AND customer.acquisition_channel IS NULL
      AND EXISTS (SELECT 1 FROM orders o WHERE o.store_id = :store_id AND o.customer_id = customer.id
                  AND o.channel IS NOT NULL)
"""


def refresh_activity(session: Session, store: Store, customer_ids: Iterable[int]) -> None:
    """Move `last_activity_at` forward and fill the acquisition channel of `customer_ids`."""
    for chunk in chunks(sorted(set(customer_ids))):
        params = {"store_id": store.id, **{f"c{i}": cid for i, cid in enumerate(chunk)}}
        ids = ", ".join(f":c{i}" for i in range(len(chunk)))
        session.execute(text(_LATEST.format(column="placed_at", table="orders", ids=ids)), params)
        session.execute(text(_LATEST.format(column="occurred_at", table="activity_event", ids=ids)), params)
        session.execute(text(_FIRST_SEEN.format(ids=ids)), params)
        session.execute(text(_CHANNEL.format(ids=ids)), params)
