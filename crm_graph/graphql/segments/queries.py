"""Root query fields of segments."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import NotFound
from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.ids import parse_id
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.services.segments import get_segment, list_segments


@strawberry.type
class SegmentQuery:
    @strawberry.field(description="The store's saved segments, by name. Cost: 1.", metadata=field_cost(1))
    async def segments(self, info: Info) -> list[SegmentType]:
        return [SegmentType.from_model(row) for row in await info.context.run(list_segments)]

    @strawberry.field(description="One saved segment; null when the store has none with this id. Cost: 1.",
                      metadata=field_cost(1))
    async def segment(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Internal id of the segment.")]) -> SegmentType | None:
        segment_id = parse_id(id)
        if segment_id is None:
            return None
        try:
            row = await info.context.run(get_segment, segment_id)
        except NotFound:
            return None
        return SegmentType.from_model(row)
