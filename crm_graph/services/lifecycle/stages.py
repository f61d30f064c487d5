"""Lifecycle stages of buyers and their counts over time (docs/metrics.md, “Lifecycle and marketing”; rules in docs/metrics.md).

A buyer's stage as of the end of local day D looks at their order days (local days with a counted
order) up to D. With n order days, the first on F, the last on L and the one before it on P:

- NEW: the first order day is within the last `lifecycle_new_days` days (D − F < 30).
- REACTIVATED: the last order day is within that window and came after a gap longer than
  `lifecycle_churn_gap_multiple` × the customer's usual gap before it (they had churned).
- CHURNED: the days since the last order exceed `lifecycle_churn_gap_multiple` × the usual gap,
  or P(alive) from the store's CLV model is below `lifecycle_churn_p_alive`.
- AT_RISK: likewise with `lifecycle_at_risk_gap_multiple` and `lifecycle_at_risk_p_alive`.
- ACTIVE: every other buyer.

The first rule that matches wins, in that order. The usual gap is the mean gap between the
customer's order days, (L − F) / (n − 1), at least `lifecycle_min_gap_days`; with a single order
day it is `lifecycle_one_time_gap_days`. P(alive) uses the parameters of the store's latest READY
CLV fit, evaluated as of D; without one only the gap rules apply. Customers without counted orders
(prospects) and erased customers have no stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.services.dates import Granularity, ResolvedRange, buckets, day_end
from crm_graph.services.lifecycle.clv import TIME_UNIT_DAYS, latest_ready_model
from crm_graph.services.analytics.sql import COUNTED_SQL, day_number, greatest_sql, local_day_sql, prepare, sql_text


class LifecycleStage(StrEnum):
    """Where a buyer is in their life with the store."""

    NEW = "NEW"
    ACTIVE = "ACTIVE"
    AT_RISK = "AT_RISK"
    CHURNED = "CHURNED"
    REACTIVATED = "REACTIVATED"


@dataclass(frozen=True)
class StagePoint:
    """The number of buyers in each stage as of the end of a period."""

    label: str
    first_day: date
    last_day: date
    counts: dict[LifecycleStage, int]

    @property
    def buyers(self) -> int:
        """All buyers with a stage (every customer with a counted order by then)."""
        return sum(self.counts.values())


def _model_params(session: Session, store: Store) -> dict[str, float] | None:
    model = latest_ready_model(session, store)
    if model is None or not model.bgnbd_params:
        return None
    p = model.bgnbd_params
    unit = float(model.time_unit_days or TIME_UNIT_DAYS)
    return {"r": p["r"], "alpha": p["alpha"], "ln_a": math.log(p["a"]), "b": p["b"], "unit": unit}


def _stage_sql(dialect: str, *, with_model: bool, customer_filter: str, ends: int) -> str:
    day = local_day_sql(dialect, "o.placed_at")
    gap = f"{greatest_sql(dialect, '(s.order_day - s.first_day) * 1.0 / (s.n - 1)', ':min_gap')}"
    prev_gap = f"{greatest_sql(dialect, '(s.prev_day - s.first_day) * 1.0 / (s.n - 2)', ':min_gap')}"
    usual = f"(CASE WHEN s.n >= 2 THEN {gap} ELSE :one_time_gap END)"
    before_last = f"(CASE WHEN s.n >= 3 THEN {prev_gap} ELSE :one_time_gap END)"
    since = "(e.d - s.order_day)"
    if with_model:
        # log((1 - P(alive)) / P(alive)) of BG/NBD, in log space so nothing overflows.
        # GREATEST keeps LN's argument positive on rows the `s.n >= 2` guard rejects anyway.
        repeats = greatest_sql(dialect, "s.n - 2", "0")
        log_odds = (f"(:ln_a - LN(:b + {repeats}) + (:r + s.n - 1) * (LN(:alpha + (e.d - s.first_day) / :unit)"
                    " - LN(:alpha + (s.order_day - s.first_day) / :unit)))")
        churn_model = f" OR (s.n >= 2 AND {log_odds} > :churn_logit)"
        risk_model = f" OR (s.n >= 2 AND {log_odds} > :risk_logit)"
    else:
        churn_model = risk_model = ""
    values = ", ".join(f"(:d{i})" for i in range(ends))
    return f"""
WITH ends(d) AS (VALUES {values}),
order_days AS (
    SELECT o.customer_id AS customer_id, {day} AS order_day
    FROM orders o JOIN customer c ON c.id = o.customer_id
    WHERE o.store_id = :store_id AND c.store_id = :store_id AND c.erased_at IS NULL
      AND o.status IN ({COUNTED_SQL}) AND o.placed_at < :until {customer_filter}
    GROUP BY o.customer_id, {day}
),
seq AS (
    SELECT customer_id, order_day,
           LAG(order_day) OVER w AS prev_day,
           LEAD(order_day) OVER w AS next_day,
           MIN(order_day) OVER (PARTITION BY customer_id) AS first_day,
           ROW_NUMBER() OVER w AS n
    FROM order_days
    WINDOW w AS (PARTITION BY customer_id ORDER BY order_day)
),
staged AS (
    SELECT e.d AS d, s.customer_id AS customer_id,
           CASE
             WHEN e.d - s.first_day < :new_days THEN 'NEW'
             WHEN s.n >= 2 AND {since} < :new_days
                  AND s.order_day - s.prev_day > :churn_multiple * {before_last} THEN 'REACTIVATED'
             WHEN {since} > :churn_multiple * {usual}{churn_model} THEN 'CHURNED'
             WHEN {since} > :risk_multiple * {usual}{risk_model} THEN 'AT_RISK'
             ELSE 'ACTIVE'
           END AS stage
    FROM seq s JOIN ends e ON s.order_day <= e.d AND (s.next_day IS NULL OR s.next_day > e.d)
)
"""


def _params(session: Session, store: Store, end_days: Sequence[date], with_model: dict | None) -> dict:
    settings = store.analytics_settings
    params: dict = {
        "store_id": store.id, "tz": store.timezone, "until": day_end(max(end_days), store.tz),
        "new_days": settings.lifecycle_new_days, "min_gap": float(settings.lifecycle_min_gap_days),
        "one_time_gap": float(settings.lifecycle_one_time_gap_days),
        "churn_multiple": settings.lifecycle_churn_gap_multiple,
        "risk_multiple": settings.lifecycle_at_risk_gap_multiple,
    }
    params.update({f"d{i}": day_number(day) for i, day in enumerate(end_days)})
    if with_model:
        params.update(with_model)
        params["churn_logit"] = math.log(1 / settings.lifecycle_churn_p_alive - 1)
        params["risk_logit"] = math.log(1 / settings.lifecycle_at_risk_p_alive - 1)
    return params


def stage_counts(session: Session, store: Store, resolved: ResolvedRange,
                 granularity: Granularity | str = Granularity.DAY) -> list[StagePoint]:
    """Buyers per lifecycle stage as of the end of each period of the range."""
    periods = buckets(resolved, granularity)
    dialect = prepare(session)
    model = _model_params(session, store)
    ends = [period.last_day for period in periods]
    sql = _stage_sql(dialect, with_model=model is not None, customer_filter="", ends=len(ends))
    sql += "SELECT d, stage, COUNT(*) FROM staged GROUP BY d, stage"
    found: dict[int, dict[LifecycleStage, int]] = {}
    for d, stage, count in session.execute(sql_text(sql, "until"), _params(session, store, ends, model)):
        found.setdefault(int(d), {})[LifecycleStage(stage)] = int(count)
    points = []
    for period in periods:
        counts = {stage: 0 for stage in LifecycleStage}
        counts.update(found.get(day_number(period.last_day), {}))
        points.append(StagePoint(period.label, period.first_day, period.last_day, counts))
    return points


def customer_stages(session: Session, store: Store, customer_ids: Sequence[int], as_of: date) -> list[LifecycleStage | None]:
    """Each customer's stage as of the end of local day `as_of` (None for prospects), in order."""
    ids = [int(i) for i in dict.fromkeys(customer_ids)]
    if not ids:
        return []
    dialect = prepare(session)
    model = _model_params(session, store)
    names = [f"c{i}" for i in range(len(ids))]
    customer_filter = f"AND o.customer_id IN ({', '.join(':' + name for name in names)})"
    sql = _stage_sql(dialect, with_model=model is not None, customer_filter=customer_filter, ends=1)
    sql += "SELECT customer_id, stage FROM staged"
    params = _params(session, store, [as_of], model)
    params.update(zip(names, ids))
    found = {int(cid): LifecycleStage(stage) for cid, stage in session.execute(sql_text(sql, "until"), params)}
    return [found.get(int(customer_id)) for customer_id in customer_ids]
