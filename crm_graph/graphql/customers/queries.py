"""Root query fields of the customers domain: the list, one customer (Customer 360), a job."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import page_cost
from crm_graph.graphql.customers.filters import CustomerFilterInput, CustomerSort, SortDirection, to_filter
from crm_graph.graphql.customers.types import CustomerConnection, CustomerType
from crm_graph.graphql.ids import parse_id
from crm_graph.services.customers.listing import customers_page
from crm_graph.services.customers.profile import get_customer
from crm_graph.settings import get_settings


def _id(value: strawberry.ID) -> int | None:
    return parse_id(value)


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer of the store by internal id (Customer 360); null when there is none. Cost: 1.",
                      metadata=field_cost(1))
    async def customer(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Internal id of the customer.")]) -> CustomerType | None:
        customer_id = _id(id)
        if customer_id is None:
            return None
        row = await info.context.run(get_customer, customer_id)
        return CustomerType.from_model(row) if row else None

    @strawberry.field(description="The store's customers matching `filter`, sorted, a page at a time (keyset cursors). "
                      "Cost: `first` (default 50), and what each customer selects costs `first` times.",
                      metadata=page_cost("first", default=50))
    async def customers(
        self,
        info: Info,
        filter: Annotated[CustomerFilterInput | None, strawberry.argument(description="Which customers; none: all of them.")] = None,
        sort: Annotated[CustomerSort, strawberry.argument(description="What to order by.")] = CustomerSort.CREATED,
        direction: Annotated[SortDirection, strawberry.argument(description="ASC or DESC.")] = SortDirection.DESC,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to the server limit (200 by default).")] = 50,
        after: Annotated[str | None, strawberry.argument(description="`endCursor` of the previous page.")] = None,
    ) -> CustomerConnection:
        customer_filter = to_filter(filter)
        page = await info.context.run(
            customers_page, customer_filter, sort=sort, direction=direction, first=first, after=after,
            max_page_size=get_settings().max_page_size,
        )
        return CustomerConnection(
            nodes=[CustomerType.from_model(row) for row in page.customers], end_cursor=page.end_cursor,
            has_next_page=page.has_next_page, filter=customer_filter,
        )
