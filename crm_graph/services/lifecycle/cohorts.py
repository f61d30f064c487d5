"""Cohort retention: customers by month of first counted order × months since (docs/metrics.md, “Lifecycle and marketing”).

A customer's cohort is the local calendar month of their first counted order ever
(`Customer.first_order_at`). The cohorts are the months the range touches, the first one taken
whole; activity is counted up to the end of the range. For each cohort and each month since its
start (0 = the cohort month): the customers with a counted order placed in that month, their share
of the cohort ("still buying"), those orders and their net revenue (refunds issued by the end of the
range subtracted). Erased customers drop out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.types import ZERO
from crm_graph.services.dates import ResolvedRange, day_start
from crm_graph.services.analytics.sql import (
    COUNTED_SQL,
    local_month_sql,
    month_from_number,
    month_number,
    prepare,
    refunds_by_order_sql,
    sql_text,
)

#: The widest matrix one request may ask for (10 years of monthly cohorts).
MAX_COHORT_MONTHS = 121


@dataclass(frozen=True)
class CohortCell:
    """One cohort in one month since its first month."""

    months_since: int
    customers: int
    share: float
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class Cohort:
    """Customers whose first counted order fell in `month`, and what they did in later months."""

    month: date
    size: int
    cells: list[CohortCell]


def _month_bucket_sql(dialect: str, column: str) -> str:
    """The month index of `column` counted from the first month of the matrix (0, 1, ...)."""
    if dialect == "postgresql":
        # Binary search over the month boundaries: no time-zone conversion per row.
        return f"(width_bucket({column}, CAST(:bounds AS timestamptz[])) - 1)"
    return f"({local_month_sql(dialect, column)} - :first_month)"


def cohort_matrix(session: Session, store: Store, resolved: ResolvedRange) -> list[Cohort]:
    """The retention matrix of the cohorts of the months the range touches, oldest first."""
    first_month = month_number(resolved.first_day)
    months = month_number(resolved.last_day) - first_month + 1
    if months > MAX_COHORT_MONTHS:  # resolve_range caps ranges at 10 years, so this is a safeguard
        months = MAX_COHORT_MONTHS
        first_month = month_number(resolved.last_day) - months + 1
    start = day_start(month_from_number(first_month), store.tz)
    dialect = prepare(session)
    # Boundaries of every month, the last one clipped to the end of the range.
    bounds = [day_start(month_from_number(first_month + i), store.tz) for i in range(months)] + [resolved.end]
    cohort = _month_bucket_sql(dialect, "c.first_order_at")
    month = _month_bucket_sql(dialect, "o.placed_at")
    params = {"store_id": store.id, "tz": store.timezone, "start": start, "until": resolved.end,
              "first_month": first_month}
    if dialect == "postgresql":
        params["bounds"] = bounds
    sizes_sql = f"""
        SELECT {cohort} AS cohort, COUNT(*) FROM customer c
        WHERE c.store_id = :store_id AND c.erased_at IS NULL
          AND c.first_order_at >= :start AND c.first_order_at < :until
        GROUP BY 1
    """
    sizes = {int(k): int(n) for k, n in session.execute(sql_text(sizes_sql, "start", "until"), params)}
    cells_sql = f"""
        WITH activity AS (
            SELECT {cohort} AS cohort, {month} AS month_index, o.customer_id AS customer_id,
                   COUNT(*) AS orders, SUM(o.total - COALESCE(r.refunded, 0)) AS revenue
            FROM orders o
            JOIN customer c ON c.id = o.customer_id
            LEFT JOIN {refunds_by_order_sql(':until')} r ON r.order_id = o.id
            WHERE o.store_id = :store_id AND c.store_id = :store_id AND c.erased_at IS NULL
              AND o.status IN ({COUNTED_SQL}) AND o.placed_at >= :start AND o.placed_at < :until
              AND c.first_order_at >= :start AND c.first_order_at < :until
            GROUP BY 1, 2, 3
        )
        SELECT cohort, month_index, COUNT(*), SUM(orders), SUM(revenue) FROM activity GROUP BY cohort, month_index
    """
    found = {(int(k), int(m)): (int(n), int(o), Decimal(str(v)) if v is not None else ZERO)
             for k, m, n, o, v in session.execute(sql_text(cells_sql, "start", "until"), params)}
    result = []
    for index in range(months):
        size = sizes.get(index, 0)
        cells = []
        for since in range(months - index):
            customers, orders, revenue = found.get((index, index + since), (0, 0, ZERO))
            share = round(customers / size, 6) if size else 0.0
            cells.append(CohortCell(since, customers, share, orders, revenue.quantize(Decimal("0.01"))))
        result.append(Cohort(month_from_number(first_month + index), size, cells))
    return result
