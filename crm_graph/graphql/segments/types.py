"""GraphQL types of saved segments."""

from __future__ import annotations

import datetime

from typing import Annotated

import strawberry

from crm_graph.graphql.cost import days_in_range, field_cost, page_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerSort, SortDirection
from crm_graph.graphql.customers.types import CustomerConnection
from crm_graph.graphql.pages import page_info
from crm_graph.graphql.relay import NodeType, PageInfoType, global_id
from crm_graph.graphql.segments.filter_types import SavedCustomerFilterType
from crm_graph.models import Segment
from crm_graph.services.filters import CustomerFilter
from crm_graph.services.keyset import KeysetPage
from crm_graph.services.segments import count_members, segment_count, segment_filter, segment_history
from crm_graph.settings import get_settings


@strawberry.type(name="SegmentCount", description="A segment's member count at the end of one local day.")
class SegmentCountType:
    day: datetime.date = strawberry.field(description="The local day.")
    count: int = strawberry.field(description="Members at the end of that day.")


@strawberry.type(name="Segment", description="A saved customer filter with its precomputed member count.")
class SegmentType(NodeType):
    name: str = strawberry.field(description="Unique name in the store.")
    description: str | None = strawberry.field(description="What the segment is for.")
    member_count: int | None = strawberry.field(description="Members at `lastComputedAt`; null until first computed.")
    last_computed_at: datetime.datetime | None = strawberry.field(description="When `memberCount` was computed.")
    computing: bool = strawberry.field(description="True while the count is being refreshed.")
    last_error: str | None = strawberry.field(description="Why the last refresh failed, if it did.")
    created_at: datetime.datetime = strawberry.field(description="When the segment was created.")
    updated_at: datetime.datetime = strawberry.field(description="When it was last changed.")
    saved_filter: strawberry.Private[CustomerFilter]
    row: strawberry.Private[Segment]

    @strawberry.field(description="The saved filter, field for field as the `CustomerFilter` input that made it "
                      "(amount bounds as money in the store's currency).")
    def filter(self, info: Info) -> SavedCustomerFilterType:
        return SavedCustomerFilterType.from_model(self.saved_filter, info.context.require().currency)

    @strawberry.field(description="The member count now, counted live (may be slower than `memberCount`). Cost: 10.",
                      metadata=field_cost(10))
    async def live_count(self, info: Info) -> int:
        return await info.context.run(count_members, self.row)

    @strawberry.field(description="The members now (live membership), like the customer list: a page at a time, "
                      "forward with `first`/`after` or backward with `last`/`before`. Cost: `first` or `last` "
                      "(default 50), and what each customer selects costs that many times.",
                      metadata=page_cost("first", default=50))
    async def customers(
        self, info: Info,
        sort: Annotated[CustomerSort, strawberry.argument(description="What to order by.")] = CustomerSort.CREATED,
        direction: Annotated[SortDirection, strawberry.argument(description="ASC or DESC.")] = SortDirection.DESC,
        first: Annotated[int | None, strawberry.argument(description="Page size forward, 1 to the server limit; default 50.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Members after this cursor.")] = None,
        last: Annotated[int | None, strawberry.argument(description="Page size backward, 1 to the server limit.")] = None,
        before: Annotated[str | None, strawberry.argument(description="Members before this cursor.")] = None,
    ) -> CustomerConnection:
        return await CustomerConnection.page(info, CustomerFilter(segment_id=self.row.id), sort=sort,
                                             direction=direction, first=first, after=after, last=last, before=before)

    @strawberry.field(description="The member count at the end of each day in `from`..`to` that has a snapshot, "
                      "oldest first, one per day (at most 3,661: the range spans at most 10 years). Cost: 1 + 1 per day.", metadata=field_cost(lambda args: 1 + (days_in_range(args) or 1)))
    async def count_history(
        self, info: Info,
        from_: Annotated[datetime.date, strawberry.argument(name="from", description="First local day.")],
        to: Annotated[datetime.date, strawberry.argument(description="Last local day (inclusive).")],
    ) -> list[SegmentCountType]:
        rows = await info.context.run(segment_history, self.row.id, from_, to)
        return [SegmentCountType(day=row.day, count=row.member_count) for row in rows]

    @classmethod
    def from_model(cls, segment: Segment) -> SegmentType:
        """The GraphQL view of a segment."""
        saved = segment_filter(segment)
        return cls(
            id=global_id("Segment", segment.id), name=segment.name, description=segment.description,
            member_count=segment.member_count,
            last_computed_at=segment.last_computed_at, computing=segment.computing, last_error=segment.last_error,
            created_at=segment.created_at, updated_at=segment.updated_at, saved_filter=saved, row=segment,
        )


@strawberry.type(name="SegmentEdge", description="A segment in a page of segments, with its cursor.")
class SegmentEdge:
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from this segment.")
    node: SegmentType = strawberry.field(description="The segment.")


@strawberry.type(name="SegmentConnection", description="A page of the store's saved segments, by name.")
class SegmentConnection:
    edges: list[SegmentEdge] = strawberry.field(description="The segments of this page with their cursors.")
    nodes: list[SegmentType] = strawberry.field(description="The segments of this page.")
    page_info: PageInfoType = strawberry.field(description="Where this page is in the whole list.")

    @strawberry.field(description="How many segments the store has. Cost: 1.", metadata=field_cost(1))
    async def total_count(self, info: Info) -> int:
        return await info.context.run(segment_count)

    @classmethod
    def from_model(cls, page: KeysetPage[Segment]) -> SegmentConnection:
        """The GraphQL view of a page of segment rows."""
        nodes = [SegmentType.from_model(row) for row in page.rows]
        return cls(edges=[SegmentEdge(cursor=cursor, node=node) for cursor, node in zip(page.cursors, nodes)],
                   nodes=nodes, page_info=page_info(page))
