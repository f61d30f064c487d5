"""`startClvFit`: refit the store's CLV models (BG/NBD and Gamma-Gamma) as a background job."""

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.models.enums import Role
from crm_graph.services.jobs import start_clv_fit


@strawberry.type
class ClvFitStartMutation:
    @strawberry.mutation(
        description="Refit the CLV models on the store's orders to date and rewrite every customer's "
        "prediction (the scheduler does this daily); returns the job to follow, or the fit already "
        "queued or running. Needs a write key."
    )
    async def start_clv_fit(self, info: Info) -> JobType:
        job = await info.context.run(start_clv_fit, role=Role.WRITE)
        return JobType.from_model(job)
