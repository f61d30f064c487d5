"""Root query fields of segments, and `node(id:)` of a segment."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import field_cost, page_cost
from crm_graph.graphql.pages import After, Before, First, Last, requested_page
from crm_graph.graphql.relay import node_row_id, register_node
from crm_graph.graphql.segments.types import SegmentConnection, SegmentType
from crm_graph.services.segments import segments_by_id, segments_page

#: Segments of a page when the client gives no size.
DEFAULT_PAGE = 50


async def load_segments(info: Info, segment_ids: list[int]) -> dict[int, SegmentType]:
    """The request store's segments among `segment_ids` (for `node(id:)`)."""
    rows = await info.context.run(segments_by_id, segment_ids)
    return {row.id: SegmentType.from_model(row) for row in rows if row is not None}


register_node("Segment", load_segments)


@strawberry.type
class SegmentQuery:
    @strawberry.field(description="The store's saved segments, by name. Cost: `first` or `last` (default "
                      f"{DEFAULT_PAGE}), and what each segment selects costs that many times.",
                      metadata=page_cost("first", default=DEFAULT_PAGE))
    async def segments(self, info: Info, first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> SegmentConnection:
        info.context.require()
        request = requested_page(first, after, last, before, default=DEFAULT_PAGE)
        page = await info.context.run(segments_page, size=request.size, backward=request.backward, cursor=request.cursor)
        return SegmentConnection.from_model(page)

    @strawberry.field(description="One saved segment; null when the store has none with this id. Cost: 1.",
                      metadata=field_cost(1))
    async def segment(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the segment.")],
    ) -> SegmentType | None:
        segment_id = node_row_id(id, "Segment")
        if segment_id is None:
            info.context.require()
            return None
        return (await load_segments(info, [segment_id])).get(segment_id)
