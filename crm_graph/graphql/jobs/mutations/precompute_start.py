"""`startPrecompute`: precompute a store's daily aggregates for past days, as a background job."""

from datetime import date

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.models.enums import Role
from crm_graph.services.jobs import start_precompute


@strawberry.type
class PrecomputeStartMutation:
    @strawberry.mutation(
        description="Precompute the daily aggregates of finished local days `firstDay`..`lastDay`, every "
        "stored day a later change has made stale, and the RFM grids of the presets ending on the last day and, "
        "when that is yesterday, ending today (what `rfmGrid(preset:)` asks today). The scheduler does yesterday "
        "and stale days by itself. Returns the job to follow. Needs a write key."
    )
    async def start_precompute(self, info: Info, first_day: date, last_day: date) -> JobType:
        job = await info.context.run(start_precompute, first_day, last_day, role=Role.WRITE)
        return JobType.from_model(job)
