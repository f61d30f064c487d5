"""`deleteSegment`: delete a saved segment (its customers are not touched)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.mutation_errors import (
    ConflictErrorType, UserErrorType, NotFoundErrorType, ValidationErrorType, error_result, parse_id, run_mutation,
)
from crm_graph.services import segments


@strawberry.type(name="DeletedSegment", description="A segment that was deleted.")
class DeletedSegmentType:
    id: strawberry.ID = strawberry.field(description="Id the segment had.")
    name: str = strawberry.field(description="Name it had.")


DeleteSegmentResult = Annotated[
    DeletedSegmentType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("DeleteSegmentResult", description="The deleted segment, or why nothing was deleted."),
]


@strawberry.mutation(description="Delete a segment and its count history; refused while another segment uses it.")
async def delete_segment(info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Internal id of the segment.")]) -> DeleteSegmentResult:
    try:
        segment_id = parse_id(id)
    except UserError as exc:
        return error_result(exc)
    result = await run_mutation(info, segments.delete_segment, segment_id)
    if isinstance(result, UserErrorType):
        return result
    return DeletedSegmentType(id=strawberry.ID(str(segment_id)), name=result.name)
