"""Saved segments and their daily member counts."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field
from crm_graph.models.types import JsonType


class Segment(SQLModel, table=True):
    """A saved customer filter (the same filter input the customer list takes).

    `member_count` is precomputed by a worker; `last_computed_at`, `computing` and `last_error` say
    how fresh it is. Live membership is always the filter itself.
    """

    __table_args__ = (UniqueConstraint("store_id", "name"),)

    id: int | None = id_field()
    store_id: int = store_field()
    name: str = Field(max_length=200, nullable=False)
    description: str | None = Field(default=None, max_length=2000)
    filter: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    member_count: int | None = Field(default=None)
    last_computed_at: datetime | None = instant_field()
    computing: bool = Field(default=False, nullable=False)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class SegmentSnapshot(SQLModel, table=True):
    """A segment's member count at the end of one local day: its count over time."""

    __tablename__ = "segment_snapshot"
    __table_args__ = (UniqueConstraint("store_id", "segment_id", "day"),)

    id: int | None = id_field()
    store_id: int = store_field()
    segment_id: int = ref_field("segment.id")
    day: date = Field(nullable=False)
    member_count: int = Field(nullable=False)
