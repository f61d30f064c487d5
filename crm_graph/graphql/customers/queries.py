"""Root query fields of the customers domain: the list, one customer (Customer 360), a job."""

from __future__ import annotations

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, CustomerSort, SortDirection, to_filter
from crm_graph.graphql.customers.jobs import CustomerJobType, app_settings
from crm_graph.graphql.customers.types import CustomerConnection, CustomerType
from crm_graph.services.customers.background import get_customer_job
from crm_graph.services.customers.listing import customers_page
from crm_graph.services.customers.profile import get_customer
from crm_graph.settings import get_settings


def _id(value: strawberry.ID) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() and len(text) <= 18 else None


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer of the store by internal id (Customer 360); null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> CustomerType | None:
        customer_id = _id(id)
        if customer_id is None:
            return None
        row = await info.context.run(get_customer, customer_id)
        return CustomerType.from_model(row) if row else None

    @strawberry.field(description="The store's customers matching `filter`, sorted, a page at a time (keyset cursors).")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilterInput | None = None,
        sort: CustomerSort = CustomerSort.CREATED,
        direction: SortDirection = SortDirection.DESC,
        first: int = 50,
        after: str | None = None,
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

    @strawberry.field(description="A background job on customers (bulk change or export) of this store; null when none.")
    async def customer_job(self, info: Info, id: strawberry.ID) -> CustomerJobType | None:
        job_id = _id(id)
        if job_id is None:
            return None
        job = await info.context.run(get_customer_job, job_id)
        return CustomerJobType.from_model(job, info.context.store, app_settings(info)) if job else None
