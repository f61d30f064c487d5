"""`updateSegment`: rename, re-describe or change the filter of a segment."""

from __future__ import annotations

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.mutation_errors import error_result, parse_id, run_mutation
from crm_graph.graphql.segments.mutations.segment_create import SegmentResult, segment_result
from crm_graph.services import segments


@strawberry.input(name="SegmentUpdateInput", description="What to change; fields left out stay as they are.")
class SegmentUpdateInput:
    name: str | None = strawberry.field(default=None, description="New name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description; null clears it.")
    filter: CustomerFilterInput | None = strawberry.field(default=None, description="New filter; the count becomes stale.")


@strawberry.mutation(description="Change a segment; returns it or a typed error.")
async def update_segment(info: Info, id: strawberry.ID, input: SegmentUpdateInput) -> SegmentResult:
    try:
        segment_id = parse_id(id)
        customer_filter = None if input.filter is None else to_filter(input.filter)
    except UserError as exc:
        return error_result(exc)
    description_set = input.description is not strawberry.UNSET
    result = await run_mutation(
        info, segments.update_segment, segment_id, name=input.name, filter=customer_filter,
        description=input.description if description_set else None,
        clear_description=description_set and input.description is None,
    )
    return segment_result(result)
