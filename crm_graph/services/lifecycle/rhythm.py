"""Purchase rhythm: how many days pass between a customer's orders (docs/metrics.md, “Lifecycle and marketing”).

Orders are counted per local order day (several orders on one day are one shopping occasion, as in
the CLV models). A gap is the number of days between two consecutive order days of a customer; the
gaps of the range are those whose later order day falls in the range (the earlier one may be before
it). Average customer lifetime is the mean number of days from the first to the last order day
(up to the end of the range) of the repeat buyers who ordered in the range: customers with two or
more order days by then. Erased customers drop out; with no gaps the figures are null.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.services.dates import ResolvedRange
from crm_graph.services.analytics.sql import COUNTED_SQL, day_number, local_day_sql, prepare, sql_text


@dataclass(frozen=True)
class PurchaseRhythm:
    """Gaps between order days in the range and the lifetime of repeat buyers."""

    gaps: int
    average_days_between_orders: float | None
    median_days_between_orders: float | None
    repeat_buyers: int
    average_lifetime_days: float | None


def purchase_rhythm(session: Session, store: Store, resolved: ResolvedRange) -> PurchaseRhythm:
    """Average and median days between orders in the range, and repeat buyers' average lifetime."""
    dialect = prepare(session)
    day = local_day_sql(dialect, "o.placed_at")
    base = f"""
        WITH buyers AS (
            SELECT DISTINCT o.customer_id AS customer_id FROM orders o
            WHERE o.store_id = :store_id AND o.status IN ({COUNTED_SQL}) AND o.customer_id IS NOT NULL
              AND o.placed_at >= :start AND o.placed_at < :until
        ),
        order_days AS (
            SELECT o.customer_id AS customer_id, {day} AS order_day
            FROM orders o
            JOIN buyers b ON b.customer_id = o.customer_id
            JOIN customer c ON c.id = o.customer_id
            WHERE o.store_id = :store_id AND c.erased_at IS NULL AND o.status IN ({COUNTED_SQL})
              AND o.placed_at < :until
            GROUP BY o.customer_id, {day}
        ),
        gaps AS (
            SELECT customer_id, order_day,
                   order_day - LAG(order_day) OVER (PARTITION BY customer_id ORDER BY order_day) AS gap
            FROM order_days
        )
    """
    params = {"store_id": store.id, "tz": store.timezone, "start": resolved.start, "until": resolved.end,
              "first_day": day_number(resolved.first_day)}
    gap_sql = base + """,
        in_range AS (SELECT gap FROM gaps WHERE gap IS NOT NULL AND order_day >= :first_day),
        ranked AS (
            SELECT gap, ROW_NUMBER() OVER (ORDER BY gap) AS rn, COUNT(*) OVER () AS total FROM in_range
        )
        SELECT (SELECT COUNT(*) FROM in_range), (SELECT AVG(gap * 1.0) FROM in_range),
               (SELECT AVG(gap * 1.0) FROM ranked WHERE rn IN ((total + 1) / 2, (total + 2) / 2))
    """
    count, average, median = session.execute(sql_text(gap_sql, "start", "until"), params).one()
    life_sql = base + """
        SELECT COUNT(*), AVG(lifetime * 1.0) FROM (
            SELECT customer_id, MAX(order_day) - MIN(order_day) AS lifetime FROM order_days
            GROUP BY customer_id HAVING COUNT(*) >= 2
        ) repeaters
    """
    repeaters, lifetime = session.execute(sql_text(life_sql, "start", "until"), params).one()
    return PurchaseRhythm(
        gaps=int(count or 0),
        average_days_between_orders=None if average is None else round(float(average), 4),
        median_days_between_orders=None if median is None else float(median),
        repeat_buyers=int(repeaters or 0),
        average_lifetime_days=None if lifetime is None else round(float(lifetime), 4),
    )
