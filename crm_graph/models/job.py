"""Background jobs: status, progress and per-record errors."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field
from crm_graph.models.enums import JobStatus
from crm_graph.models.types import JsonType


class Job(SQLModel, table=True):
    """One run of background work (a sync, an import, an export, a precompute).

    `heartbeat_at` is refreshed while the job runs, so a job whose worker died can be told from one
    that is merely slow (for a queued job it is when its message was last sent). `counts` holds what
    the job did (created, updated, unchanged, rejected).

    `key` makes a job unique in its store (e.g. ``precompute:2026-11-21``): two schedulers that try
    to start the same work get the same row. `claim_token` is the lease of the worker running the
    job; a worker that lost its lease (it was presumed dead) stops instead of writing over another.
    """

    __table_args__ = (
        Index("ix_job_store_created", "store_id", "created_at"),
        Index("ix_job_store_status", "store_id", "status"),
        Index("ix_job_status_heartbeat", "status", "heartbeat_at"),
        UniqueConstraint("store_id", "key"),
    )

    id: int | None = id_field()
    store_id: int = store_field()
    kind: str = Field(max_length=64, nullable=False)
    status: str = Field(default=JobStatus.QUEUED.value, max_length=16, nullable=False)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    progress_done: int = Field(default=0, nullable=False)
    progress_total: int | None = Field(default=None)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    result: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    error: str | None = Field(default=None, max_length=4000)
    attempts: int = Field(default=0, nullable=False)
    key: str | None = Field(default=None, max_length=200)
    claim_token: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_field()
    started_at: datetime | None = instant_field()
    finished_at: datetime | None = instant_field()
    heartbeat_at: datetime | None = instant_field()


class JobError(SQLModel, table=True):
    """A record a job could not take, with where it was and why."""

    __tablename__ = "job_error"
    __table_args__ = (Index("ix_job_error_store_job", "store_id", "job_id"),)

    id: int | None = id_field()
    store_id: int = store_field()
    job_id: int = ref_field("job.id")
    line: int | None = Field(default=None)
    record: str | None = Field(default=None, max_length=500)
    reason: str = Field(max_length=2000, nullable=False)
    created_at: datetime = created_field()
