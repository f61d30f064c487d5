"""`segmentCountRefresh`: recount a segment's members now (workers also do it on a schedule)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType
from crm_graph.graphql.relay import require_row_id
from crm_graph.graphql.segments.mutations.results import input_error, segment_result
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.models.enums import Role
from crm_graph.services import segments

SegmentCountRefreshResult = Annotated[
    SegmentType | NotFoundErrorType | ValidationErrorType,
    strawberry.union("SegmentCountRefreshResult", description="The recounted segment, or why it was not recounted."),
]


@strawberry.mutation(description="Recount the segment's members and store the count with `lastComputedAt`; a "
                     "NotFoundError for an `id` the store does not have, a ValidationError when its filter cannot be "
                     "counted (the reason is also kept in `lastError`). Needs a write key.")
async def segment_count_refresh(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the segment.")],
) -> SegmentCountRefreshResult:
    info.context.require(Role.WRITE)
    try:
        segment_id = require_row_id(id, "Segment")
        row = await info.context.run(segments.refresh_segment_count, segment_id, role=Role.WRITE)
    except UserError as exc:
        return input_error(exc, argument=None)
    return segment_result(row)
