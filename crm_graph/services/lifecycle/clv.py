"""Predicted customer lifetime value per store: fit BG/NBD + Gamma-Gamma, store predictions (docs/metrics.md, “Lifecycle and marketing”).

`fit_clv_models` is what the daily schedule and the on-demand job call. It

1. summarises every buyer in one SQL query: on the store's local days up to the cut-off, the
   number of order days after the first (`x`), days from the first to the last order day (`t_x`),
   days from the first order day to the cut-off (`T`) and the net value of the repeat order days;
2. fits BG/NBD on the distinct (x, t_x, T) rows weighted by how many customers share them, and
   Gamma-Gamma on the repeat buyers' average repeat-order value (`bgnbd`, `gamma_gamma`);
3. writes a `ClvModel` row (parameters, fit date, cut-off, status) and replaces the store's
   `CustomerClv` rows with each customer's expected orders in the next 365 days, P(alive),
   expected order value and predicted 365-day value.

Several orders on one local day count as one purchase occasion, as in the CDNOW studies the models
come from. A store below the minimums of its settings gets status NOT_ENOUGH_HISTORY and no
predictions; an optimiser failure gets FAILED and leaves the previous predictions in place.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.models import ClvModel, CustomerClv, Store
from crm_graph.services.analytics.freshness import Freshness
from crm_graph.services.dates import day_end, store_today
from crm_graph.services.lifecycle import bgnbd, gamma_gamma
from crm_graph.services.analytics.sql import COUNTED_SQL, day_number, local_day_sql, prepare, refunds_by_order_sql, sql_text

log = logging.getLogger(__name__)

#: Models are fitted with time in weeks (the unit of the published fits; well-scaled parameters).
TIME_UNIT_DAYS = 7
#: Predictions look this many days ahead ("the next 12 months").
HORIZON_DAYS = 365

Progress = Callable[[int, int | None], None]


class ClvStatus(StrEnum):
    """The outcome of a fit."""

    READY = "READY"
    NOT_ENOUGH_HISTORY = "NOT_ENOUGH_HISTORY"
    FAILED = "FAILED"


@dataclass
class FitSummary:
    """What `fit_clv_models` did: the model row it wrote and how many customers it covered."""

    model_id: int | None
    status: ClvStatus
    reason: str | None
    counts: dict[str, int] = field(default_factory=dict)
    errors: list = field(default_factory=list)


@dataclass
class CustomerSummary:
    """Per buyer, in days: repeat order days `x`, recency `t_x`, age `T`, repeat value sum."""

    customer_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    repeat_value: np.ndarray
    first_day_min: int | None

    @property
    def size(self) -> int:
        """Number of buyers."""
        return int(self.customer_id.size)

    @property
    def avg_repeat_value(self) -> np.ndarray:
        """Mean net value of the repeat order days; NaN for customers without repeats."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.x > 0, self.repeat_value / np.maximum(self.x, 1), np.nan)


# One pass: orders → (customer, order day) → ranked days → customers. Erased customers are left out
# with an anti-join against the (few) erased ids, so the million live customers are never joined.
_SUMMARY_SQL = """
WITH order_days AS (
    SELECT o.customer_id AS customer_id, {day} AS order_day,
           SUM(o.total - COALESCE(r.refunded, 0)) AS day_value
    FROM orders o
    LEFT JOIN {refunds} r ON r.order_id = o.id
    WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL
      AND o.status IN ({counted}) AND o.placed_at < :until
      AND o.customer_id NOT IN (
          SELECT id FROM customer WHERE store_id = :store_id AND erased_at IS NOT NULL)
    GROUP BY o.customer_id, {day}
),
ranked AS (
    SELECT customer_id, order_day, day_value,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_day) AS day_index
    FROM order_days
)
SELECT customer_id, COUNT(*) - 1, MAX(order_day) - MIN(order_day), :cutoff_day - MIN(order_day),
       CAST(SUM(CASE WHEN day_index > 1 THEN day_value ELSE 0 END) AS DOUBLE PRECISION), MIN(order_day)
FROM ranked
GROUP BY customer_id
"""


def customer_summary(session: Session, store: Store, cutoff: date) -> CustomerSummary:
    """The model inputs of every non-erased buyer of `store` from counted orders up to `cutoff`.

    Net values subtract the refunds issued by the end of the cut-off day.
    """
    dialect = prepare(session)
    day = local_day_sql(dialect, "o.placed_at")
    sql = _SUMMARY_SQL.format(day=day, refunds=refunds_by_order_sql(":until"), counted=COUNTED_SQL)
    rows = session.execute(
        sql_text(sql, "until"),
        {"store_id": store.id, "tz": store.timezone, "until": day_end(cutoff, store.tz),
         "cutoff_day": day_number(cutoff)},
    ).all()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return CustomerSummary(empty, empty, empty, empty, np.zeros(0), None)
    columns = list(zip(*rows))
    first_days = np.asarray(columns[5], dtype=np.int64)
    return CustomerSummary(
        customer_id=np.asarray(columns[0], dtype=np.int64),
        x=np.asarray(columns[1], dtype=np.int64),
        t_x=np.asarray(columns[2], dtype=np.int64),
        T=np.asarray(columns[3], dtype=np.int64),
        repeat_value=np.asarray([0.0 if v is None else float(v) for v in columns[4]], dtype=float),
        first_day_min=int(first_days.min()),
    )


def _not_enough_history(store: Store, summary: CustomerSummary, cutoff: date) -> str | None:
    """Why the store cannot be fitted yet, or None when it can."""
    settings = store.analytics_settings
    if summary.size < settings.clv_min_customers:
        return (f"{summary.size} customers have counted orders; predicted CLV needs at least "
                f"{settings.clv_min_customers}.")
    repeat = int((summary.x > 0).sum())
    if repeat < settings.clv_min_repeat_customers:
        return (f"{repeat} customers have ordered on more than one day; predicted CLV needs at least "
                f"{settings.clv_min_repeat_customers}.")
    span = day_number(cutoff) - (summary.first_day_min or 0)
    if span < settings.clv_min_history_days:
        return (f"The order history covers {span} days; predicted CLV needs at least "
                f"{settings.clv_min_history_days}.")
    return None


@dataclass
class _Fitted:
    bgnbd: bgnbd.BgNbdParams
    bgnbd_ll: float
    gamma_gamma: gamma_gamma.GammaGammaParams | None
    gamma_gamma_ll: float | None
    spend_note: str | None


def _fit(summary: CustomerSummary) -> _Fitted:
    """Fit both models on the summary (time in weeks)."""
    unit = float(TIME_UNIT_DAYS)
    # One row per distinct (x, t_x, T), weighted: on a large store this is far fewer rows.
    key = (summary.x << 42) | (summary.t_x << 21) | summary.T
    unique, counts = np.unique(key, return_counts=True)
    ux, utx, uT = unique >> 42, (unique >> 21) & ((1 << 21) - 1), unique & ((1 << 21) - 1)
    params, ll = bgnbd.fit(ux, utx / unit, uT / unit, counts)

    m = summary.avg_repeat_value
    usable = (summary.x > 0) & (m > 0)
    gg, gg_ll, note = None, None, None
    try:
        gg, gg_ll = gamma_gamma.fit(summary.x[usable], m[usable])
        if gg.population_mean is None:
            note = "The order values are too spread out for a finite mean (q ≤ 1); one-time buyers get no value."
    except bgnbd.FitError as exc:
        note = f"Expected order values are unavailable: {exc}."
    return _Fitted(params, ll, gg, gg_ll, note)


def _predict(summary: CustomerSummary, fitted: _Fitted) -> dict[str, np.ndarray]:
    """Per-customer predictions; non-finite expected orders raise `FitError`."""
    unit = float(TIME_UNIT_DAYS)
    key = (summary.x << 42) | (summary.t_x << 21) | summary.T
    unique, inverse = np.unique(key, return_inverse=True)
    ux, utx, uT = unique >> 42, (unique >> 21) & ((1 << 21) - 1), unique & ((1 << 21) - 1)
    horizon = HORIZON_DAYS / unit
    expected = bgnbd.expected_purchases(fitted.bgnbd, horizon, ux, utx / unit, uT / unit)[inverse]
    alive = bgnbd.p_alive(fitted.bgnbd, ux, utx / unit, uT / unit)[inverse]
    bad = ~(np.isfinite(expected) & np.isfinite(alive))
    if bad.any():
        raise bgnbd.FitError(f"the fitted BG/NBD model gives no finite prediction for {int(bad.sum())} customers")
    expected = np.maximum(expected, 0.0)
    avg = summary.avg_repeat_value
    if fitted.gamma_gamma is None:
        value = np.full(summary.size, np.nan)
    else:
        value = gamma_gamma.expected_order_value(fitted.gamma_gamma, summary.x, np.nan_to_num(np.maximum(avg, 0.0)))
    return {"expected": expected, "alive": np.clip(alive, 0.0, 1.0), "value": value,
            "predicted": expected * value, "avg": avg}


def _money_column(values: np.ndarray) -> list[float | None]:
    """Money values rounded to cents, None where not finite (the column stores them as Decimal)."""
    rounded = np.round(values, 2)
    return [None if not np.isfinite(v) else v for v in rounded.tolist()]


_COLUMNS = ("customer_id", "store_id", "model_id", "frequency", "recency_days", "age_days", "avg_order_value",
            "expected_orders", "p_alive", "expected_order_value", "predicted_value")


def _write_predictions(session: Session, store: Store, model_id: int, summary: CustomerSummary,
                       predictions: dict[str, np.ndarray]) -> None:
    """Replace the store's prediction rows (COPY on PostgreSQL, batched inserts on SQLite)."""
    session.execute(delete(CustomerClv).where(CustomerClv.store_id == store.id))
    n = summary.size
    rows = zip(summary.customer_id.tolist(), [store.id] * n, [model_id] * n, summary.x.tolist(),
               summary.t_x.tolist(), summary.T.tolist(), _money_column(predictions["avg"]),
               predictions["expected"].tolist(), predictions["alive"].tolist(),
               _money_column(predictions["value"]), _money_column(predictions["predicted"]))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY customer_clv ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    raw = connection.connection.driver_connection
    insert_sql = f"INSERT INTO customer_clv ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
    while batch := list(itertools.islice(rows, 10_000)):
        raw.executemany(insert_sql, batch)


def fit_clv_models(engine_or_session: Engine | Session, store: Store, cutoff: date | None = None, *,
                   progress: Progress | None = None) -> FitSummary:
    """Fit the store's CLV models on counted orders up to `cutoff` (default: the store's today).

    With an Engine the work commits in its own transaction; with a Session it is left to the
    caller to commit. Returns what was written; never raises for data the models cannot use (that
    is the NOT_ENOUGH_HISTORY or FAILED status).
    """
    if isinstance(engine_or_session, Session):
        return _fit_in(engine_or_session, store, cutoff, progress)
    with Session(engine_or_session, expire_on_commit=False) as session:
        summary = _fit_in(session, store, cutoff, progress)
        session.commit()
        return summary


def _fit_in(session: Session, store: Store, cutoff: date | None, progress: Progress | None) -> FitSummary:
    started = time.monotonic()
    report = progress or (lambda done, total: None)
    cutoff = cutoff or store_today(store)
    report(0, 4)
    summary = customer_summary(session, store, cutoff)
    report(1, 4)
    repeat = int((summary.x > 0).sum()) if summary.size else 0
    model = ClvModel(store_id=store.id, status=ClvStatus.READY.value, cutoff=cutoff, time_unit_days=TIME_UNIT_DAYS,
                     horizon_days=HORIZON_DAYS, n_customers=summary.size, n_repeat_customers=repeat)
    counts = {"customers": summary.size, "repeat_customers": repeat, "predictions": 0}
    predictions = None
    reason = _not_enough_history(store, summary, cutoff)
    if reason is not None:
        model.status, model.reason = ClvStatus.NOT_ENOUGH_HISTORY.value, reason
    else:
        try:
            fitted = _fit(summary)
            report(2, 4)
            predictions = _predict(summary, fitted)
            model.bgnbd_params, model.bgnbd_log_likelihood = fitted.bgnbd.as_dict(), fitted.bgnbd_ll
            if fitted.gamma_gamma is not None:
                model.gamma_gamma_params = fitted.gamma_gamma.as_dict()
                model.gamma_gamma_log_likelihood = fitted.gamma_gamma_ll
            model.reason = fitted.spend_note
        except bgnbd.FitError as exc:
            log.warning("CLV fit of store %s failed: %s", store.id, exc)
            model.status, model.reason, predictions = ClvStatus.FAILED.value, f"The model fit failed: {exc}.", None
    report(3, 4)
    model.duration_ms = int((time.monotonic() - started) * 1000)
    session.add(model)
    session.flush()
    if predictions is not None:
        _write_predictions(session, store, model.id, summary, predictions)
        counts["predictions"] = summary.size
    elif model.status == ClvStatus.NOT_ENOUGH_HISTORY.value:
        session.execute(delete(CustomerClv).where(CustomerClv.store_id == store.id))
    model.duration_ms = int((time.monotonic() - started) * 1000)
    report(4, 4)
    return FitSummary(model_id=model.id, status=ClvStatus(model.status), reason=model.reason, counts=counts)


def delete_store_clv(session: Session, store: Store) -> None:
    """Delete a store's predictions and fits (`customer_clv` has no foreign key that would cascade)."""
    session.execute(delete(CustomerClv).where(CustomerClv.store_id == store.id))
    session.execute(delete(ClvModel).where(ClvModel.store_id == store.id))


def latest_model(session: Session, store: Store) -> ClvModel | None:
    """The store's most recent fit (any status), or None when it was never fitted."""
    return session.execute(
        select(ClvModel).where(ClvModel.store_id == store.id).order_by(ClvModel.fitted_at.desc(), ClvModel.id.desc())
        .limit(1)
    ).scalars().first()


def models_by_id(session: Session, store: Store, model_ids: Sequence[int]) -> list[ClvModel]:
    """The store's fits among `model_ids` (ids of another store's fits find nothing)."""
    if not model_ids:
        return []
    return list(session.execute(
        select(ClvModel).where(ClvModel.store_id == store.id, ClvModel.id.in_(list(model_ids)))
    ).scalars())


def model_freshness(model: ClvModel) -> Freshness:
    """A fit's figures (its parameters and the predictions it wrote) are STORED as of its fit time."""
    return Freshness.stored(model.fitted_at)


def latest_ready_model(session: Session, store: Store) -> ClvModel | None:
    """The store's most recent fit with usable parameters (status READY), or None."""
    return session.execute(
        select(ClvModel).where(ClvModel.store_id == store.id, ClvModel.status == ClvStatus.READY.value)
        .order_by(ClvModel.fitted_at.desc(), ClvModel.id.desc()).limit(1)
    ).scalars().first()


def clv_by_customer(session: Session, store: Store, customer_ids: Sequence[int]) -> list[CustomerClv | None]:
    """The prediction rows of `customer_ids` in order (None where a customer has none)."""
    found: dict[int, CustomerClv] = {}
    ids = list(dict.fromkeys(customer_ids))
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        for row in session.execute(
            select(CustomerClv).where(CustomerClv.store_id == store.id, CustomerClv.customer_id.in_(chunk))
        ).scalars():
            found[row.customer_id] = row
    return [found.get(customer_id) for customer_id in customer_ids]
