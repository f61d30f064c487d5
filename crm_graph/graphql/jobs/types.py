"""GraphQL types of background jobs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from crm_graph.graphql.cost import field_cost, page_cost
from crm_graph.graphql.context import Info, app_settings
from crm_graph.graphql.enums import JobStatus
from crm_graph.graphql.pages import page_info
from crm_graph.graphql.relay import NodeType, PageInfoType, global_id
from crm_graph.models import Job, JobError
from crm_graph.services import jobs as job_service
from crm_graph.services.export import download_link, has_download
from crm_graph.services.keyset import KeysetPage

@strawberry.enum(name="JobKind", description="What a background job does.")
class JobKind(Enum):
    """The GraphQL names of `crm_graph.services.jobs.JobKind`, with the same values."""

    SYNC = strawberry.enum_value("SYNC", description="Reads a registered connector's platform (`connectorSync`).")
    CSV_IMPORT = strawberry.enum_value("CSV_IMPORT", description="Imports records from a CSV file (the CLI).")
    SEGMENT_REFRESH = strawberry.enum_value("SEGMENT_REFRESH", description="Recounts the members of every segment.")
    PRECOMPUTE = strawberry.enum_value(
        "PRECOMPUTE", description="Precomputes the daily aggregates of past days (`precomputeStart`).")
    WEBHOOK = strawberry.enum_value("WEBHOOK", description="Applies one webhook delivery of a connector's platform.")
    CLV_FIT = strawberry.enum_value("CLV_FIT", description="Refits the CLV models (`clvFitStart`).")
    CUSTOMERS_EXPORT = strawberry.enum_value("customers.export", description="Exports customers to a CSV file.")
    CUSTOMERS_ERASE = strawberry.enum_value("customers.erase", description="Erases customers' personal data.")
    CUSTOMERS_CONSENT = strawberry.enum_value("customers.consent", description="Sets the consent of customers.")
    CUSTOMERS_TAG = strawberry.enum_value("customers.tag", description="Adds tags to customers.")
    CUSTOMERS_UNTAG = strawberry.enum_value("customers.untag", description="Removes tags from customers.")

MAX_ERRORS_PAGE = 1000
#: The most counts a job shows (its kind of work counts far fewer things).
MAX_COUNTS = 50


@strawberry.type(name="JobProgress", description="How far a job is: `done` of `total` units (records, days...).")
class JobProgressType:
    done: int = strawberry.field(description="Units done so far.")
    total: int | None = strawberry.field(description="Units in all; null while the job does not know yet.")

    @strawberry.field(description="`done / total` between 0 and 1; null while the total is unknown.")
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@strawberry.type(name="JobCount", description="One count of what a job did, e.g. created: 120.")
class JobCountType:
    name: str = strawberry.field(description="What was counted: created, updated, unchanged, rejected, days...")
    value: int = strawberry.field(description="How many.")


@strawberry.type(name="JobRecordError", description="A record a job could not take, with where it was and why.")
class JobRecordErrorType:
    line: int | None = strawberry.field(description="Line of the input file (CSV imports), when there is one.")
    record: str | None = strawberry.field(description="Which record: an external id or the start of the row.")
    reason: str = strawberry.field(description="Why it was rejected, in one sentence.")

    @classmethod
    def from_model(cls, row: JobError) -> JobRecordErrorType:
        return cls(line=row.line, record=row.record, reason=row.reason)


@strawberry.type(name="JobDownload", description="A file a finished job produced, behind a signed, expiring link.")
class JobDownloadType:
    url: str = strawberry.field(
        description="Path of the file on this API (`/exports/...`); works without a key, for this job only, until `expiresAt`."
    )
    expires_at: datetime = strawberry.field(description="Until when `url` works; ask for the job again for a new link.")


@strawberry.type(name="Job", description="One run of background work: a sync, an import, an export, a bulk change of customers, a precompute. Every mutation that starts work returns it; follow it with `job(id:)` or `node(id:)`.")
class JobType(NodeType):
    row_id: strawberry.Private[int]
    kind: JobKind = strawberry.field(description="What the job does.")
    status: JobStatus = strawberry.field(description="QUEUED, RUNNING, then SUCCEEDED or FAILED.")
    progress: JobProgressType = strawberry.field(description="How far the job is.")
    counts: list[JobCountType] = strawberry.field(
        description=f"What the job did, one count per name in name order (complete once it succeeded; at most "
        f"{MAX_COUNTS}: the kinds of work count a few things each).")
    error: str | None = strawberry.field(
        description="Why the job failed; while it is QUEUED again after a failed attempt, that attempt's error."
    )
    attempts: int = strawberry.field(description="How many times a worker has started the job (retries included).")
    result: JSON | None = strawberry.field(
        description="Kind-specific outcome, e.g. an export's file name and rows; files are named, never located "
        "(an export's file is fetched through `download`)."
    )
    stored_result: strawberry.Private[dict | None] = None
    created_at: datetime = strawberry.field(description="When the job was requested.")
    started_at: datetime | None = strawberry.field(description="When a worker first started it.")
    finished_at: datetime | None = strawberry.field(description="When it succeeded or failed.")
    heartbeat_at: datetime | None = strawberry.field(
        description="Last sign of life of its worker (while RUNNING); a stale one means the worker died."
    )

    @strawberry.field(
        description="The file the job produced (the CSV of a customers export, the rejects report of a CSV import "
        "with rejected rows), with a new link at each request; "
        "null for kinds without a file, until the job has SUCCEEDED, and once the file has expired."
    )
    def download(self, info: Info) -> JobDownloadType | None:
        if not has_download(self.kind.value, self.status.value, self.stored_result):
            return None
        store = info.context.require()
        settings = app_settings(info)
        url, expires_at = download_link(settings.secret_key, store.id, self.row_id, settings.export_link_seconds)
        return JobDownloadType(url=url, expires_at=expires_at)

    @strawberry.field(description="How many records the job rejected (only the first 1,000 are kept in `errors`). Cost: 1.",
                      metadata=field_cost(1))
    async def error_count(self, info: Info) -> int:
        return await info.context.run(job_service.job_error_count, self.row_id)

    @strawberry.field(description="The first `first` records the job rejected, in the order they were met (at most "
                      "1,000: the job keeps no more). Cost: `first` (default 100).",
                      metadata=page_cost("first", default=100, max_size=MAX_ERRORS_PAGE))
    async def errors(
        self, info: Info,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 1,000.")] = 100,
    ) -> list[JobRecordErrorType]:
        first = max(1, min(first, MAX_ERRORS_PAGE))
        rows = await info.context.run(job_service.job_errors, self.row_id, first=first)
        return [JobRecordErrorType.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, job: Job) -> JobType:
        """The GraphQL view of a job row."""
        counts = [JobCountType(name=name, value=int(value)) for name, value in sorted((job.counts or {}).items())[:MAX_COUNTS]
                  if isinstance(value, (int, float)) and not isinstance(value, bool)]
        return cls(
            id=global_id("Job", job.id), row_id=job.id, kind=JobKind(job.kind), status=JobStatus(job.status),
            progress=JobProgressType(done=job.progress_done, total=job.progress_total), counts=counts,
            error=job.error, attempts=job.attempts, result=public_result(job.result), stored_result=job.result,
            created_at=job.created_at,
            started_at=job.started_at, finished_at=job.finished_at, heartbeat_at=job.heartbeat_at,
        )


def public_result(result: Any) -> Any:
    """A job's result as clients see it: a server path (``path``, ``rejects_path``...) becomes the file's
    name (``file``, ``rejects_file``...), so the answer never tells where the server keeps its files."""
    if isinstance(result, dict):
        shown = {}
        for key, value in result.items():
            if isinstance(value, str) and (key == "path" or key.endswith("_path")):
                shown[key[: -len("path")] + "file"] = PurePath(value.replace("\\", "/")).name
            else:
                shown[key] = public_result(value)
        return shown
    if isinstance(result, list):
        return [public_result(item) for item in result]
    return result


@strawberry.type(name="JobEdge", description="A job in a page of jobs, with its cursor.")
class JobEdge:
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from this job.")
    node: JobType = strawberry.field(description="The job.")


@strawberry.type(name="JobConnection", description="A page of the store's jobs, newest first.")
class JobConnection:
    edges: list[JobEdge] = strawberry.field(description="The jobs of this page with their cursors.")
    nodes: list[JobType] = strawberry.field(description="The jobs of this page.")
    page_info: PageInfoType = strawberry.field(description="Where this page is in the whole list.")
    status: strawberry.Private[str | None]
    kind: strawberry.Private[str | None]

    @strawberry.field(description="How many jobs the list has in all (with its `status` and `kind`). Cost: 1.",
                      metadata=field_cost(1))
    async def total_count(self, info: Info) -> int:
        return await info.context.run(job_service.jobs_count, status=self.status, kind=self.kind)

    @classmethod
    def from_model(cls, page: KeysetPage[Job], *, status: str | None, kind: str | None) -> JobConnection:
        """The GraphQL view of a page of job rows."""
        nodes = [JobType.from_model(row) for row in page.rows]
        return cls(
            edges=[JobEdge(cursor=cursor, node=node) for cursor, node in zip(page.cursors, nodes)], nodes=nodes,
            page_info=page_info(page),
            status=status, kind=kind,
        )
