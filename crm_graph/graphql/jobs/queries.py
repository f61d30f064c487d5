"""Root query fields of background jobs; a job of another store is invisible."""

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.cost import field_cost, page_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.enums import JobStatus
from crm_graph.graphql.ids import parse_id
from crm_graph.graphql.jobs.types import JobConnection, JobKind, JobType
from crm_graph.services.jobs import get_job, jobs_page
from crm_graph.settings import get_settings


def _job_id(value: str) -> int | None:
    return parse_id(value)


@strawberry.type
class JobQuery:
    @strawberry.field(description="One background job of the store by id; null when there is none. Cost: 1.",
                      metadata=field_cost(1))
    async def job(self, info: Info, id: strawberry.ID) -> JobType | None:
        job_id = _job_id(str(id))
        if job_id is None:
            return None
        row = await info.context.run(get_job, job_id)
        return JobType.from_model(row) if row else None

    @strawberry.field(description="The store's background jobs, newest first, optionally of one status or kind. "
                      "Cost: `first` (default 20), and what each job selects costs `first` times.",
                      metadata=page_cost("first", default=20))
    async def jobs(
        self,
        info: Info,
        status: JobStatus | None = None,
        kind: JobKind | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> JobConnection:
        before_id = None
        if after is not None:
            before_id = _job_id(after)
            if before_id is None:
                raise UserError("`after` is not a cursor this API returned.")
        rows, has_next = await info.context.run(
            jobs_page, status=status.value if status else None, kind=kind.value if kind else None, first=first,
            before_id=before_id, max_page_size=get_settings().max_page_size,
        )
        return JobConnection(nodes=[JobType.from_model(row) for row in rows],
                             end_cursor=str(rows[-1].id) if rows else None, has_next_page=has_next)
