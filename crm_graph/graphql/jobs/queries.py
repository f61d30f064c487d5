"""Root query fields of background jobs, and `node(id:)` of a job; a job of another store is invisible."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.cost import field_cost, page_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.enums import JobStatus
from crm_graph.graphql.jobs.types import JobConnection, JobKind, JobType
from crm_graph.graphql.pages import After, Before, First, Last, requested_page
from crm_graph.graphql.relay import node_row_id, register_node
from crm_graph.services.jobs import jobs_by_id, jobs_page
from crm_graph.settings import get_settings

#: Jobs of a page when the client gives no size.
DEFAULT_PAGE = 20


async def load_jobs(info: Info, job_ids: list[int]) -> dict[int, JobType]:
    """The request store's jobs among `job_ids` (for `node(id:)`)."""
    rows = await info.context.run(jobs_by_id, job_ids)
    return {job_id: JobType.from_model(row) for job_id, row in rows.items()}


register_node("Job", load_jobs)


@strawberry.type
class JobQuery:
    @strawberry.field(description="One background job of the store; null when the store has none with this id. Cost: 1.",
                      metadata=field_cost(1))
    async def job(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the job.")],
    ) -> JobType | None:
        job_id = node_row_id(id, "Job")
        if job_id is None:
            info.context.require()
            return None
        return (await load_jobs(info, [job_id])).get(job_id)

    @strawberry.field(description="The store's background jobs, newest first, optionally of one status or kind. "
                      f"Cost: `first` or `last` (default {DEFAULT_PAGE}), and what each job selects costs that many times.",
                      metadata=page_cost("first", default=DEFAULT_PAGE))
    async def jobs(
        self,
        info: Info,
        status: Annotated[JobStatus | None, strawberry.argument(description="Only jobs in this status.")] = None,
        kind: Annotated[JobKind | None, strawberry.argument(description="Only jobs of this kind.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> JobConnection:
        info.context.require()
        request = requested_page(first, after, last, before, default=DEFAULT_PAGE)
        status_value = status.value if status else None
        kind_value = kind.value if kind else None
        page = await info.context.run(
            jobs_page, status=status_value, kind=kind_value, size=request.size, backward=request.backward,
            cursor=request.cursor, max_page_size=get_settings().max_page_size,
        )
        return JobConnection.from_model(page, status=status_value, kind=kind_value)
