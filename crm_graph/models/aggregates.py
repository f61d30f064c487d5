"""Precomputed daily aggregates: what the dashboard reads when a request falls on computed days.

Each row is "as of the end of local day `day`" for its store. Workers fill them; resolvers fall back
to live computation for days not covered.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, store_field
from crm_graph.models.types import ZERO, BigId, Money


class DailyConsentCount(SQLModel, table=True):
    """Customers in each consent bucket of a channel at the end of a day."""

    __tablename__ = "daily_consent_count"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    channel: str = Field(primary_key=True, max_length=8)
    bucket: str = Field(primary_key=True, max_length=16)
    customers: int = Field(nullable=False)


class DailyConsentGenderCount(SQLModel, table=True):
    """Customers of one (current) gender in each consent bucket of a channel at the end of a day."""

    __tablename__ = "daily_consent_gender_count"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    channel: str = Field(primary_key=True, max_length=8)
    gender: str = Field(primary_key=True, max_length=16)
    bucket: str = Field(primary_key=True, max_length=16)
    customers: int = Field(nullable=False)


class DailyCustomerCount(SQLModel, table=True):
    """Customer totals at the end of a day: all, identified, spenders, and by activity bucket.

    A row marks its day as precomputed: every daily table of the store was written for that day in
    the same transaction. `settings_key` records the store settings the activity buckets were
    computed with (`services.analytics.daily.settings_key`); rows of other settings are not used.
    """

    __tablename__ = "daily_customer_count"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    customers: int = Field(nullable=False)
    identified: int = Field(nullable=False)
    spenders: int = Field(nullable=False)
    active: int = Field(default=0, nullable=False)
    low_risk: int = Field(default=0, nullable=False)
    high_risk: int = Field(default=0, nullable=False)
    settings_key: str = Field(default="", max_length=64, nullable=False)
    computed_at: datetime = created_field()


class DailyTagCount(SQLModel, table=True):
    """Customers carrying a tag at the end of a day."""

    __tablename__ = "daily_tag_count"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    tag_id: int = Field(primary_key=True, foreign_key="tag.id", ondelete="CASCADE", sa_type=BigId)
    customers: int = Field(nullable=False)


class DailySpenderThresholds(SQLModel, table=True):
    """The spender-segment thresholds of a store as of a day, and the segment sizes (docs/metrics.md, widget G).

    `value_low`/`value_high` are the percentiles rounded up to the cent (which keeps every customer,
    whose amounts are whole cents, in the same segment); `settings_key` as in `DailyCustomerCount`.
    """

    __tablename__ = "daily_spender_thresholds"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    spenders: int = Field(nullable=False)
    value_low: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    value_high: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    frequent_threshold: int = Field(nullable=False)
    small: int = Field(default=0, nullable=False)
    medium: int = Field(default=0, nullable=False)
    big: int = Field(default=0, nullable=False)
    one_time: int = Field(default=0, nullable=False)
    repeat: int = Field(default=0, nullable=False)
    frequent: int = Field(default=0, nullable=False)
    settings_key: str = Field(default="", max_length=64, nullable=False)


class DailyRfmCell(SQLModel, table=True):
    """One cell of the RFM grid of a preset range ending on `day`, in one scoring scheme.

    The row r = fm = 0 holds the grid's prospects (customers without a counted order in the range).
    `computed_at` says how fresh the grid is (a grid of today is recomputed during the day).
    """

    __tablename__ = "daily_rfm_cell"

    store_id: int = store_field(primary_key=True)
    day: date = Field(primary_key=True)
    preset: str = Field(primary_key=True, max_length=32)
    scheme: str = Field(primary_key=True, max_length=16)
    r: int = Field(primary_key=True)
    fm: int = Field(primary_key=True)
    customers: int = Field(nullable=False)
    revenue: Decimal = Field(default=ZERO, sa_type=Money, nullable=False)
    computed_at: datetime = created_field()


class AnalyticsInvalidation(SQLModel, table=True):
    """"The store's stored figures are stale from local day `from_day` on": written by database triggers.

    Every write to a table the stored figures read (orders, refunds, consent and activity events,
    customer tags, customers) adds, in its own transaction, an entry with the first day it affects,
    unless an entry covering that day already exists (see the migration `analytics_0002`). Readers
    ignore stored rows of days on or after a store's earliest entry; the PRECOMPUTE job claims the
    entries (`claimed_by`, its job id), recomputes, and deletes exactly the entries it claimed in
    the transaction that writes its last rows.

    Writers only ever insert here (an append-only log): concurrent writers of one store never wait for
    each other on a shared row, as they would on a per-store watermark row that each one updates.
    `tx` is the PostgreSQL transaction that wrote the entry (a trigger skips only entries of its own
    transaction there; SQLite has one writer at a time and skips any entry not yet claimed).
    """

    __tablename__ = "analytics_invalidation"
    __table_args__ = (Index("ix_analytics_invalidation_store_day", "store_id", "from_day"),)

    id: int | None = id_field()
    store_id: int = store_field()
    from_day: date = Field(nullable=False)
    tx: int | None = Field(default=None, sa_type=BigInteger)
    claimed_by: int | None = Field(default=None, sa_type=BigId)
