"""The `CustomerJob` type: a bulk change by filter or an export, running in the background."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import strawberry
from strawberry.scalars import JSON

from crm_graph.graphql.enums import JobStatus
from crm_graph.models import Job, Store
from crm_graph.models.enums import JobStatus as JobStatusEnum
from crm_graph.services.customers.background import EXPORT
from crm_graph.services.export import make_download_token
from crm_graph.settings import Settings, get_settings


@strawberry.type(name="CustomerJob", description="A background job acting on customers: a bulk change by filter or an export.")
class CustomerJobType:
    id: strawberry.ID = strawberry.field(description="Job id; ask `customerJob(id:)` for its progress.")
    kind: str = strawberry.field(description="customers.erase, customers.consent, customers.tag, customers.untag or customers.export.")
    status: JobStatus = strawberry.field(description="QUEUED, RUNNING, SUCCEEDED or FAILED.")
    progress_done: int = strawberry.field(description="Records done so far.")
    progress_total: int | None = strawberry.field(description="Records to do, when known.")
    counts: JSON = strawberry.field(description="What the job did, e.g. {\"erased\": 120} or {\"customers\": 5000}.")
    error: str | None = strawberry.field(description="Why the job failed.")
    created_at: datetime = strawberry.field(description="When it was asked for.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    download_expires_at: datetime | None = strawberry.field(description="Until when `downloadUrl` works.")
    download_url: str | None = strawberry.field(
        description="For a finished export: a link to the CSV, for this store only, valid for a short time."
    )

    @classmethod
    def from_model(cls, job: Job, store: Store | None, settings: Settings | None = None) -> CustomerJobType:
        """The GraphQL view of a job, with a fresh download link for a finished export."""
        url = expires = None
        if job.kind == EXPORT and job.status == JobStatusEnum.SUCCEEDED.value and store is not None:
            settings = settings or get_settings()
            until = int(time.time()) + settings.export_link_seconds
            url = f"/exports/{make_download_token(settings.secret_key, store.id, job.id, until)}"
            expires = datetime.fromtimestamp(until, tz=timezone.utc)
        counts: dict[str, Any] = dict(job.counts or {})
        return cls(
            id=strawberry.ID(str(job.id)), kind=job.kind, status=JobStatus(job.status), progress_done=job.progress_done,
            progress_total=job.progress_total, counts=counts, error=job.error, created_at=job.created_at,
            finished_at=job.finished_at, download_expires_at=expires, download_url=url,
        )


def app_settings(info) -> Settings:
    """The settings of the app serving this request (tests build apps with their own)."""
    request = info.context.request
    app = getattr(request, "app", None) if request is not None else None
    return getattr(getattr(app, "state", None), "settings", None) or get_settings()
