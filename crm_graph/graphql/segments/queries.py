"""Root query fields of segments."""

from __future__ import annotations

import strawberry

from crm_graph.errors import NotFound
from crm_graph.graphql.context import Info
from crm_graph.graphql.segments.types import SegmentType
from crm_graph.services.segments import get_segment, list_segments


@strawberry.type
class SegmentQuery:
    @strawberry.field(description="The store's saved segments, by name.")
    async def segments(self, info: Info) -> list[SegmentType]:
        return [SegmentType.from_model(row) for row in await info.context.run(list_segments)]

    @strawberry.field(description="One saved segment; null when the store has none with this id.")
    async def segment(self, info: Info, id: strawberry.ID) -> SegmentType | None:
        text = str(id)
        if not text.isdigit() or len(text) > 18:
            return None
        try:
            row = await info.context.run(get_segment, int(text))
        except NotFound:
            return None
        return SegmentType.from_model(row)
