"""`createSegment`: save a customer filter (e.g. an RFM cell or a facet value) as a segment."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.mutation_errors import (
    ConflictErrorType, UserErrorType, NotFoundErrorType, ValidationErrorType, error_result, run_mutation,
)
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.services import segments

SegmentResult = Annotated[
    SegmentType | ValidationErrorType | NotFoundErrorType | ConflictErrorType,
    strawberry.union("SegmentResult", description="The segment, or why nothing was changed."),
]


@strawberry.input(name="SegmentInput", description="A segment's name, description and filter.")
class SegmentInput:
    name: str = strawberry.field(description="Unique name in the store (1 to 200 characters).")
    filter: CustomerFilterInput = strawberry.field(description="Which customers are members.")
    description: str | None = strawberry.field(default=None, description="What it is for.")


def segment_result(result) -> SegmentResult:
    """The segment row as its GraphQL type, or the typed error unchanged."""
    return result if isinstance(result, UserErrorType) else SegmentType.from_model(result)


@strawberry.mutation(description="Save a filter as a segment; its count is computed by `refreshSegmentCount` or a worker.")
async def create_segment(info: Info, input: Annotated[SegmentInput, strawberry.argument(description="The new segment.")]) -> SegmentResult:
    try:
        customer_filter = to_filter(input.filter)
    except UserError as exc:
        return error_result(exc)
    return segment_result(await run_mutation(info, segments.create_segment, input.name, customer_filter, input.description))
