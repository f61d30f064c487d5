"""Predicted customer lifetime value: the fitted models of a store and each customer's prediction."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Index
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, store_field
from crm_graph.models.types import BigId, JsonType, Money


class ClvModel(SQLModel, table=True):
    """One fit of the BG/NBD and Gamma-Gamma models for a store (docs/metrics.md, “Lifecycle and marketing”), kept as history.

    `status` is READY (parameters usable), NOT_ENOUGH_HISTORY (the store has too little data for
    the models to mean anything; `reason` says what is missing) or FAILED (the optimiser found no
    usable maximum; `reason` says why). `cutoff` is the last local day whose orders the fit saw.
    Parameters are JSON: ``{"r", "alpha", "a", "b"}`` with time in `time_unit_days` days, and
    ``{"p", "q", "gamma"}`` in the store currency.
    """

    __tablename__ = "clv_model"
    __table_args__ = (Index("ix_clv_model_store_fitted", "store_id", "fitted_at"),)

    id: int | None = id_field()
    store_id: int = store_field()
    status: str = Field(max_length=24, nullable=False)
    reason: str | None = Field(default=None, max_length=500)
    fitted_at: datetime = created_field()
    cutoff: date = Field(nullable=False)
    time_unit_days: int = Field(default=7, nullable=False)
    horizon_days: int = Field(default=365, nullable=False)
    n_customers: int = Field(default=0, nullable=False)
    n_repeat_customers: int = Field(default=0, nullable=False)
    bgnbd_params: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    bgnbd_log_likelihood: float | None = Field(default=None, sa_type=Float)
    gamma_gamma_params: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    gamma_gamma_log_likelihood: float | None = Field(default=None, sa_type=Float)
    duration_ms: int = Field(default=0, nullable=False)


class CustomerClv(SQLModel, table=True):
    """A customer's inputs and predictions from the store's latest READY fit.

    Inputs (on local order days up to the fit's cutoff): `frequency` = order days after the first,
    `recency_days` = days from the first to the last order day, `age_days` = days from the first
    order day to the cutoff, `avg_order_value` = the mean net value of the repeat order days (null
    without repeats). Predictions: expected orders (order days) in the horizon, P(alive), expected
    order value (null when the spend model has no finite mean) and their product.
    """

    __tablename__ = "customer_clv"
    __table_args__ = (
        Index("ix_customer_clv_store_value", "store_id", "predicted_value"),
        Index("ix_customer_clv_store_alive", "store_id", "p_alive"),
    )

    # One prediction per customer, replaced by every fit. Unlike the other tables this one has no
    # foreign keys, on purpose: it is derived data that each fit deletes and rewrites in bulk, and
    # checking keys row by row tripled the time of writing a million predictions. Readers go
    # through live customers (erased ones drop out); a store's rows go with `delete_store_clv`.
    customer_id: int = Field(primary_key=True, sa_type=BigId)
    store_id: int = Field(nullable=False, sa_type=BigId)
    model_id: int = Field(nullable=False, sa_type=BigId)
    frequency: int = Field(nullable=False)
    recency_days: int = Field(nullable=False)
    age_days: int = Field(nullable=False)
    avg_order_value: Decimal | None = Field(default=None, sa_type=Money)
    expected_orders: float = Field(sa_type=Float, nullable=False)
    p_alive: float = Field(sa_type=Float, nullable=False)
    expected_order_value: Decimal | None = Field(default=None, sa_type=Money)
    predicted_value: Decimal | None = Field(default=None, sa_type=Money)
