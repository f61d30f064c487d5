"""`segmentCreate`: save a customer filter (e.g. an RFM cell or a facet value) as a segment."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.mutation_errors import ConflictErrorType, NotFoundErrorType, ValidationErrorType
from crm_graph.graphql.segments.mutations.results import input_error, segment_result
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.models.enums import Role
from crm_graph.services import segments

SegmentCreateResult = Annotated[
    SegmentType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("SegmentCreateResult", description="The new segment, or why nothing was saved."),
]


@strawberry.input(name="SegmentInput", description="A segment's name, description and filter.")
class SegmentInput:
    name: str = strawberry.field(description="Unique name in the store (1 to 200 characters).")
    filter: CustomerFilterInput = strawberry.field(description="Which customers are members.")
    description: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.mutation(description="Save a filter as a segment; its count is computed by `segmentCountRefresh` or a "
                     "worker. Returns the segment, or a ValidationError / NotFoundError (a `filter.segmentId` the store "
                     "does not have) / ConflictError (the name is taken) with the input field at fault. Needs a write key.")
async def segment_create(
    info: Info, input: Annotated[SegmentInput, strawberry.argument(description="The new segment.")],
) -> SegmentCreateResult:
    info.context.require(Role.WRITE)
    try:
        customer_filter = to_filter(input.filter)
        row = await info.context.run(segments.create_segment, input.name, customer_filter, input.description,
                                     role=Role.WRITE)
    except UserError as exc:
        return input_error(exc)
    return segment_result(row)
