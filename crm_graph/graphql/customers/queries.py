"""Root query fields of the customers domain."""

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import page_cost
from crm_graph.graphql.ids import parse_id
from crm_graph.graphql.customers.types import CustomerConnection, CustomerType
from crm_graph.services.customers import customers_page, get_customer
from crm_graph.settings import get_settings


def _decode_cursor(after: str | None) -> int | None:
    if after is None:
        return None
    after_id = parse_id(after)
    if after_id is None:
        raise UserError("`after` is not a cursor this API returned.")
    return after_id


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer of the store by internal id; null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> CustomerType | None:
        customer_id = parse_id(id)
        if customer_id is None:
            info.context.require()
            return None
        row = await info.context.run(get_customer, customer_id)
        return CustomerType.from_model(row) if row else None

    @strawberry.field(description="The store's customers in id order, a page at a time.",
                      metadata=page_cost("first", default=50))
    async def customers(self, info: Info, first: int = 50, after: str | None = None) -> CustomerConnection:
        rows, has_next, total = await info.context.run(
            customers_page, first=first, after_id=_decode_cursor(after),
            max_page_size=get_settings().max_page_size,
        )
        return CustomerConnection(
            nodes=[CustomerType.from_model(row) for row in rows], total_count=total,
            end_cursor=str(rows[-1].id) if rows else None, has_next_page=has_next,
        )
