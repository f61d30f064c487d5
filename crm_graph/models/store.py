"""Stores (tenants) and their settings."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field as PydanticField, model_validator
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field
from crm_graph.models.enums import RfmScheme
from crm_graph.models.types import JsonType


class StoreSettings(BaseModel):
    """Per-store analytics settings (docs/metrics.md, “Who is counted”): activity windows, spender percentiles, RFM scheme."""

    active_days: int = PydanticField(default=7, ge=0, description="ACTIVE = last activity 0..active_days days before.")
    low_risk_days: int = PydanticField(default=30, ge=1, description="LOW_RISK = up to this many days; older is HIGH_RISK.")
    value_percentiles: tuple[float, float] = PydanticField(
        default=(50.0, 80.0), description="SMALL below the first, MEDIUM up to the second, BIG from the second."
    )
    rfm_scheme: RfmScheme = RfmScheme.QUINTILE
    frequent_min_orders: int = PydanticField(default=3, ge=2, description="The frequent threshold is at least this.")
    # Predicted CLV (docs/metrics.md, “Lifecycle and marketing”): below these a fit reports NOT_ENOUGH_HISTORY instead of numbers.
    clv_min_customers: int = PydanticField(default=100, ge=2, description="Buyers a CLV fit needs at least.")
    clv_min_repeat_customers: int = PydanticField(
        default=20, ge=2, description="Repeat buyers (2+ order days) a CLV fit needs at least."
    )
    clv_min_history_days: int = PydanticField(
        default=90, ge=1, description="Days from the first order to the cut-off a CLV fit needs at least."
    )
    # Lifecycle stages (rules in docs/metrics.md, “Lifecycle and marketing”).
    lifecycle_new_days: int = PydanticField(
        default=30, ge=1, description="NEW = first order within this many days; also the REACTIVATED window."
    )
    lifecycle_at_risk_gap_multiple: float = PydanticField(
        default=1.5, gt=0, description="AT_RISK when the days since the last order exceed this × the usual gap."
    )
    lifecycle_churn_gap_multiple: float = PydanticField(
        default=3.0, gt=0, description="CHURNED when the days since the last order exceed this × the usual gap."
    )
    lifecycle_one_time_gap_days: int = PydanticField(
        default=90, ge=1, description="The usual gap assumed for a customer with a single order day."
    )
    lifecycle_min_gap_days: int = PydanticField(
        default=14, ge=1, description="A repeat buyer's usual gap is at least this many days."
    )
    lifecycle_at_risk_p_alive: float = PydanticField(
        default=0.5, gt=0, lt=1, description="AT_RISK when P(alive) from the CLV model is below this."
    )
    lifecycle_churn_p_alive: float = PydanticField(
        default=0.2, gt=0, lt=1, description="CHURNED when P(alive) from the CLV model is below this."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "StoreSettings":
        low, high = self.value_percentiles
        if not 0 < low < high < 100:
            raise ValueError("value_percentiles must be two numbers with 0 < first < second < 100")
        if self.low_risk_days <= self.active_days:
            raise ValueError("low_risk_days must be larger than active_days")
        if self.lifecycle_churn_gap_multiple <= self.lifecycle_at_risk_gap_multiple:
            raise ValueError("lifecycle_churn_gap_multiple must be larger than lifecycle_at_risk_gap_multiple")
        if self.lifecycle_churn_p_alive >= self.lifecycle_at_risk_p_alive:
            raise ValueError("lifecycle_churn_p_alive must be smaller than lifecycle_at_risk_p_alive")
        return self


class Store(SQLModel, table=True):
    """A shop whose customers crm-graph holds; every other row belongs to exactly one store."""

    id: int | None = id_field()
    slug: str = Field(max_length=64, unique=True, nullable=False)
    name: str = Field(max_length=200, nullable=False)
    timezone: str = Field(default="UTC", max_length=64, nullable=False)
    currency: str = Field(default="USD", max_length=3, nullable=False)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    created_at: datetime = created_field()

    @property
    def tz(self) -> ZoneInfo:
        """The store's timezone; its local days are the days of every metric."""
        return ZoneInfo(self.timezone)

    @property
    def analytics_settings(self) -> StoreSettings:
        """The validated settings, with defaults for what the store has not set."""
        return StoreSettings.model_validate(self.settings or {})


def validate_timezone(name: str) -> str:
    """Return `name` when it is an IANA timezone, else raise `ValueError` saying so."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA timezone such as 'Europe/Warsaw' or 'UTC'") from None
    return name
