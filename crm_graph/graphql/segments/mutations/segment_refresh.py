"""`refreshSegmentCount`: recount a segment's members now (workers also do it on a schedule)."""

from __future__ import annotations

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.mutation_errors import error_result, parse_id, run_mutation
from crm_graph.graphql.segments.mutations.segment_create import SegmentResult, segment_result
from crm_graph.services import segments


@strawberry.mutation(description="Recount the segment's members and store the count with `lastComputedAt`.")
async def refresh_segment_count(info: Info, id: strawberry.ID) -> SegmentResult:
    try:
        segment_id = parse_id(id)
    except UserError as exc:
        return error_result(exc)
    return segment_result(await run_mutation(info, segments.refresh_segment_count, segment_id))
