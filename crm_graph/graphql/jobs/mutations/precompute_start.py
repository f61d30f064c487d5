"""`precomputeStart`: precompute a store's daily aggregates for past days, as a background job."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import ValidationErrorType, is_user_error, run_mutation
from crm_graph.services.jobs import start_precompute

PrecomputeStartResult = Annotated[
    JobType | ValidationErrorType,
    strawberry.union("PrecomputeStartResult", description="The precompute job, or why none was started."),
]


@strawberry.mutation(
    description="Precompute the daily aggregates of finished local days `firstDay`..`lastDay`, every "
    "stored day a later change has made stale, and the RFM grids of the presets ending on the last day and, "
    "when that is yesterday, ending today (what `rfmGrid(preset:)` asks today). The scheduler does yesterday "
    "and stale days by itself. Returns the job to follow, or a ValidationError naming the day that is not "
    "accepted. Needs a write key."
)
async def precompute_start(
    info: Info,
    first_day: Annotated[date, strawberry.argument(description="First local day to precompute.")],
    last_day: Annotated[date, strawberry.argument(description="Last local day to precompute (inclusive); "
                                                              "before the store's today.")],
) -> PrecomputeStartResult:
    result = await run_mutation(info, start_precompute, first_day, last_day)
    return result if is_user_error(result) else JobType.from_model(result)
