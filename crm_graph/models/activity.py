"""Activity events (visits, page views, email opens and clicks, orders) and tags."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field


class ActivityEvent(SQLModel, table=True):
    """Something a customer did at an instant; the latest one is the customer's `last_activity_at`.

    `external_id`, when the source has one, makes re-imports idempotent.
    """

    __tablename__ = "activity_event"
    __table_args__ = (
        UniqueConstraint("store_id", "source", "external_id"),
        Index("ix_activity_store_customer_time", "store_id", "customer_id", "occurred_at"),
        Index("ix_activity_store_time", "store_id", "occurred_at"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    customer_id: int = ref_field("customer.id")
    kind: str = Field(max_length=16, nullable=False)
    occurred_at: datetime = instant_field(nullable=False)
    source: str = Field(max_length=64, nullable=False)
    external_id: str | None = Field(default=None, max_length=255)


class Tag(SQLModel, table=True):
    """A label a store puts on customers."""

    __table_args__ = (UniqueConstraint("store_id", "name"),)

    id: int | None = id_field()
    store_id: int = store_field()
    name: str = Field(max_length=200, nullable=False)
    created_at: datetime = created_field()


class CustomerTag(SQLModel, table=True):
    """A tag on a customer from `applied_at` until `removed_at` (null while it is on)."""

    __tablename__ = "customer_tag"
    __table_args__ = (
        Index("ix_customer_tag_store_tag", "store_id", "tag_id", "customer_id"),
        Index("ix_customer_tag_store_customer", "store_id", "customer_id"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    customer_id: int = ref_field("customer.id")
    tag_id: int = ref_field("tag.id")
    applied_at: datetime = instant_field(nullable=False)
    removed_at: datetime | None = instant_field()
    source: str = Field(default="api", max_length=64, nullable=False)
