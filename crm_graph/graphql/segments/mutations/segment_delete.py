"""`segmentDelete`: delete a saved segment (its customers are not touched)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.mutation_errors import ConflictErrorType, NotFoundErrorType, ValidationErrorType
from crm_graph.graphql.relay import global_id, require_row_id
from crm_graph.graphql.segments.mutations.results import input_error
from crm_graph.models.enums import Role
from crm_graph.services import segments


@strawberry.type(name="DeletedSegment", description="A segment that was deleted.")
class DeletedSegmentType:
    deleted_segment_id: strawberry.ID = strawberry.field(
        description="Global id the segment had (drop it from client caches; `node` no longer finds it).")
    name: str = strawberry.field(description="Name it had.")


SegmentDeleteResult = Annotated[
    DeletedSegmentType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("SegmentDeleteResult", description="The deleted segment, or why nothing was deleted."),
]


@strawberry.mutation(description="Delete a segment and its count history; a ConflictError while another segment's "
                     "filter uses it, a NotFoundError for an `id` the store does not have. Needs a write key.")
async def segment_delete(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the segment.")],
) -> SegmentDeleteResult:
    info.context.require(Role.WRITE)
    try:
        segment_id = require_row_id(id, "Segment")
        row = await info.context.run(segments.delete_segment, segment_id, role=Role.WRITE)
    except UserError as exc:
        return input_error(exc, argument=None)
    return DeletedSegmentType(deleted_segment_id=global_id("Segment", segment_id), name=row.name)
