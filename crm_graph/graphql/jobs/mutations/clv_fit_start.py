"""`clvFitStart`: refit the store's CLV models (BG/NBD and Gamma-Gamma) as a background job."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import ValidationErrorType, is_user_error, run_mutation
from crm_graph.services.jobs import start_clv_fit

ClvFitStartResult = Annotated[
    JobType | ValidationErrorType,
    strawberry.union("ClvFitStartResult", description="The fit job, or why none was started."),
]


@strawberry.mutation(
    description="Refit the CLV models on the store's orders to date and rewrite every customer's "
    "prediction (the scheduler does this daily); returns the job to follow, or the fit already "
    "queued or running. Needs a write key."
)
async def clv_fit_start(info: Info) -> ClvFitStartResult:
    result = await run_mutation(info, start_clv_fit)
    return result if is_user_error(result) else JobType.from_model(result)
