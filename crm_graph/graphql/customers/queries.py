"""Root query fields of the customers domain: the list and one customer (Customer 360).

Customers and orders are `Node`s: `node(id:)` finds them by global id through the loaders
registered here, which read the request's store only.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import field_cost, page_cost
from crm_graph.graphql.customers.dataloaders import customer_by_id_loader, order_by_id_loader
from crm_graph.graphql.customers.filters import CustomerFilterInput, CustomerSort, SortDirection, to_filter
from crm_graph.graphql.customers.profile_types import OrderType
from crm_graph.graphql.customers.types import CustomerConnection, CustomerType
from crm_graph.graphql.relay import node_row_id, register_node


async def _customer_nodes(info: Info, row_ids: list[int]) -> dict[int, CustomerType]:
    rows = await customer_by_id_loader(info.context).load_many(row_ids)
    return {row.id: CustomerType.from_model(row) for row in rows if row is not None}


async def _order_nodes(info: Info, row_ids: list[int]) -> dict[int, OrderType]:
    rows = await order_by_id_loader(info.context).load_many(row_ids)
    return {row.id: OrderType.from_model(row) for row in rows if row is not None}


register_node("Customer", _customer_nodes)
register_node("Order", _order_nodes)


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer of the store by global id (Customer 360); null when there is none. "
                      "Cost: 1.", metadata=field_cost(1))
    async def customer(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the customer.")],
    ) -> CustomerType | None:
        info.context.require()
        customer_id = node_row_id(id, "Customer")
        if customer_id is None:
            return None
        row = await customer_by_id_loader(info.context).load(customer_id)
        return CustomerType.from_model(row) if row else None

    @strawberry.field(description="The store's customers matching `filter`, sorted, a page at a time (keyset cursors, "
                      "forward with `first`/`after` or backward with `last`/`before`). Cost: `first` or `last` "
                      "(default 50), and what each customer selects costs that many times.",
                      metadata=page_cost("first", default=50))
    async def customers(
        self,
        info: Info,
        filter: Annotated[CustomerFilterInput | None, strawberry.argument(description="Which customers; none: all of them.")] = None,
        sort: Annotated[CustomerSort, strawberry.argument(description="What to order by.")] = CustomerSort.CREATED,
        direction: Annotated[SortDirection, strawberry.argument(description="ASC or DESC.")] = SortDirection.DESC,
        first: Annotated[int | None, strawberry.argument(description="Page size forward, 1 to the server limit (200 by default); default 50.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Customers after this cursor (an `endCursor` or an edge's `cursor`).")] = None,
        last: Annotated[int | None, strawberry.argument(description="Page size backward, 1 to the server limit.")] = None,
        before: Annotated[str | None, strawberry.argument(description="Customers before this cursor (a `startCursor` or an edge's `cursor`).")] = None,
    ) -> CustomerConnection:
        return await CustomerConnection.page(info, to_filter(filter), sort=sort, direction=direction, first=first,
                                             after=after, last=last, before=before)
