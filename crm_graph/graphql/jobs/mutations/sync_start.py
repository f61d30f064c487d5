"""`startSync`: sync a registered connector now, as a background job."""

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.models.enums import Role
from crm_graph.services.jobs import start_sync


@strawberry.type
class SyncStartMutation:
    @strawberry.mutation(
        description="Sync the store's connector now (incremental, from each stream's cursor); returns the job "
        "to follow, or the sync of that connector already queued or running. Needs a write key."
    )
    async def start_sync(
        self,
        info: Info,
        connector: Annotated[str, strawberry.argument(description="The connector's name, e.g. woocommerce.")],
    ) -> JobType:
        job = await info.context.run(start_sync, connector, role=Role.WRITE)
        return JobType.from_model(job)
