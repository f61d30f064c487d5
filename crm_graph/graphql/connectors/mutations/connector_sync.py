"""`connectorSync`: sync a registered connector now, as a background job."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.jobs.types import JobType
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType, is_user_error, run_mutation
from crm_graph.services.jobs import start_sync

ConnectorSyncResult = Annotated[
    JobType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("ConnectorSyncResult", description="The sync job, or why none was started."),
]


@strawberry.mutation(
    description="Sync the store's connector now (incremental, from each stream's cursor); returns the job "
    "to follow, or the sync of that connector already queued or running; a NotFoundError when the store has "
    "not registered the connector, a ValidationError when it is disabled. Needs a write key."
)
async def connector_sync(
    info: Info,
    connector: Annotated[str, strawberry.argument(description="The connector's name, e.g. woocommerce.")],
) -> ConnectorSyncResult:
    result = await run_mutation(info, start_sync, connector)
    return result if is_user_error(result) else JobType.from_model(result)
