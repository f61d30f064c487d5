"""`segmentUpdate`: rename, re-describe or change the filter of a segment."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.mutation_errors import ConflictErrorType, NotFoundErrorType, ValidationErrorType
from crm_graph.graphql.relay import require_row_id
from crm_graph.graphql.segments.mutations.results import input_error, segment_result
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.models.enums import Role
from crm_graph.services import segments

SegmentUpdateResult = Annotated[
    SegmentType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("SegmentUpdateResult", description="The changed segment, or why nothing was changed."),
]


@strawberry.input(name="SegmentUpdateInput", description="What to change; fields left out stay as they are.")
class SegmentUpdateInput:
    name: str | None = strawberry.field(default=None, description="New name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description; null clears it.")
    filter: CustomerFilterInput | None = strawberry.field(default=None, description="New filter; the count becomes stale.")


@strawberry.mutation(description="Change a segment; returns it, or a typed error with the argument or input field at "
                     "fault (NotFoundError for an `id` the store does not have). Needs a write key.")
async def segment_update(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the segment.")],
    input: Annotated[SegmentUpdateInput, strawberry.argument(description="What to change.")],
) -> SegmentUpdateResult:
    info.context.require(Role.WRITE)
    description_set = input.description is not strawberry.UNSET
    try:
        segment_id = require_row_id(id, "Segment")
        customer_filter = None if input.filter is None else to_filter(input.filter)
        row = await info.context.run(
            segments.update_segment, segment_id, name=input.name, filter=customer_filter,
            description=input.description if description_set else None,
            clear_description=description_set and input.description is None, role=Role.WRITE,
        )
    except UserError as exc:
        return input_error(exc)
    return segment_result(row)
