"""GraphQL types of customers: the customer (with Customer 360), the list connection and its facets."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_graph.graphql.cost import field_cost, page_cost, range_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers import dataloaders as loaders
from crm_graph.graphql.customers.profile_types import (
    ActivityEventType, BoughtProductType, ConsentEventType, CurrentConsentType, CustomerRevenueType,
    CustomerRfmType, CustomerSpenderSegmentType, CustomerTagType, OrderConnectionType, OrderEdgeType, OrderType,
)
from crm_graph.graphql.dates import PRESET_DESCRIPTION, RANGE_DESCRIPTION, DatePreset, DateRangeInput, resolve_range_arguments
from crm_graph.graphql.enums import Channel, ConsentState, Gender, OptInLevel, RfmScheme
from crm_graph.graphql.relay import NodeType, PageInfoType, global_id, page_request
from crm_graph.graphql.values import MoneyType, money
from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerIdentity
from crm_graph.models.enums import ConsentBucket
from crm_graph.services.customers import facets as facet_service
from crm_graph.services.customers.facets import MAX_FACET_VALUES
from crm_graph.services.customers.listing import CustomerSort, SortDirection, count_customers, customers_page
from crm_graph.services.customers.profile import decode_order_cursor, encode_order_cursor
from crm_graph.services.filters import CustomerFilter, consent_bucket_of
from crm_graph.settings import get_settings

#: The most orders, events, consent events or products one customer shows in one request.
MAX_NESTED = 100
#: The most identities and tags one customer shows.
MAX_IDENTITIES = 100
MAX_TAGS = 200

if TYPE_CHECKING:
    from crm_graph.graphql.lifecycle.types import CustomerClvType, LifecycleStage


@strawberry.type(name="CustomerIdentity", description="A customer's id in one source, shown to users as the CRM ID.")
class CustomerIdentityType:
    source: str = strawberry.field(description="Where the id comes from: woocommerce, shopify, csv, api...")
    external_id: str = strawberry.field(description="The id in that source.")

    @strawberry.field(description="`source:externalId`, e.g. `woocommerce:123`.")
    def crm_id(self) -> str:
        return f"{self.source}:{self.external_id}"

    @classmethod
    def from_model(cls, identity: CustomerIdentity) -> CustomerIdentityType:
        """The GraphQL view of an identity."""
        return cls(source=identity.source, external_id=identity.external_id)


def _nested(first: int) -> int:
    if not 1 <= first <= MAX_NESTED:
        raise UserError(f"`first` must be between 1 and {MAX_NESTED}.")
    return first


@strawberry.type(name="Customer", description="A person the store knows: identified, or an anonymous visitor (Customer 360).")
class CustomerType(NodeType):
    email: str | None = strawberry.field(description="Email address, lower-cased.")
    phone: str | None = strawberry.field(description="Phone number, in E.164 where it could be normalised.")
    first_name: str | None = strawberry.field(description="Given name.")
    last_name: str | None = strawberry.field(description="Family name.")
    gender: Gender = strawberry.field(description="Gender; UNKNOWN when never given, REFUSED when declined.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    city: str | None = strawberry.field(description="City.")
    identified: bool = strawberry.field(description="True when the customer has an email, a phone or an account.")
    acquisition_channel: str | None = strawberry.field(description="First-touch acquisition channel.")
    created_at: datetime = strawberry.field(description="When the customer was first seen.")
    last_activity_at: datetime | None = strawberry.field(description="The latest activity (visit, email, order).")
    orders_count: int = strawberry.field(description="Lifetime number of counted orders (paid, completed, refunded).")
    first_order_at: datetime | None = strawberry.field(description="When the first counted order was placed.")
    last_order_at: datetime | None = strawberry.field(description="When the latest counted order was placed.")
    row: strawberry.Private[Customer]

    @strawberry.field(description="Lifetime net revenue: counted order totals minus refunds, in the store currency.")
    def total_spent(self, info: Info) -> MoneyType:
        return money(self.row.total_spent, info.context.require().currency)

    @strawberry.field(description=f"The customer's ids in each source (CRM IDs), oldest first (at most {MAX_IDENTITIES}). "
                      "Cost: 1 (per customer: it is multiplied by the page around it).", metadata=field_cost(1))
    async def identities(self, info: Info) -> list[CustomerIdentityType]:
        rows = await loaders.identities_by_customer_loader(info.context).load(self.row.id)
        return [CustomerIdentityType.from_model(row) for row in rows[:MAX_IDENTITIES]]

    @strawberry.field(description=f"Consent now, one entry per channel (EMAIL, SMS: at most {len(Channel)}), from the latest "
                      "event. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def consents(self, info: Info) -> list[CurrentConsentType]:
        history = await loaders.consents_by_customer_loader(info.context).load(self.row.id)
        result = []
        for channel in Channel:
            latest = next((event for event in history if event.channel == channel.value), None)
            result.append(CurrentConsentType(
                channel=channel, bucket=consent_bucket_of(latest.state if latest else None),
                state=ConsentState(latest.state) if latest else None,
                opt_in_level=OptInLevel(latest.opt_in_level) if latest else None,
                since=latest.occurred_at if latest else None,
            ))
        return result

    @strawberry.field(description=f"The latest consent events, newest first; one channel or all; at most {MAX_NESTED}. "
                      "Cost: `first` (default 20) per customer.", metadata=page_cost("first", default=20, max_size=MAX_NESTED))
    async def consent_history(
        self, info: Info,
        channel: Annotated[Channel | None, strawberry.argument(description="Only this channel; none: both.")] = None,
        first: Annotated[int, strawberry.argument(description=f"How many, 1 to {MAX_NESTED}.")] = 20,
    ) -> list[ConsentEventType]:
        size = _nested(first)
        history = await loaders.consents_by_customer_loader(info.context).load(self.row.id)
        events = [event for event in history if channel is None or event.channel == channel.value]
        return [ConsentEventType.from_model(event) for event in events[:size]]

    @strawberry.field(description=f"The tags on the customer now, by name (at most {MAX_TAGS}). Cost: 1 (per customer: it "
                      "is multiplied by the page around it).", metadata=field_cost(1))
    async def tags(self, info: Info) -> list[CustomerTagType]:
        rows = await loaders.tags_by_customer_loader(info.context).load(self.row.id)
        return [CustomerTagType.from_model(row) for row in rows[:MAX_TAGS]]

    @strawberry.field(description=f"The customer's orders (any status), newest first, a page at a time (keyset cursors; "
                      f"pages of 1 to {MAX_NESTED}). Cost: `first` or `last` (default 20) per customer, and what each "
                      "order selects costs that many times.",
                      metadata=page_cost("first", default=20, max_size=MAX_NESTED))
    async def orders(
        self, info: Info,
        first: Annotated[int | None, strawberry.argument(description=f"Page size forward, 1 to {MAX_NESTED} (default 20).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Orders after this cursor (an `endCursor`).")] = None,
        last: Annotated[int | None, strawberry.argument(description=f"Page size backward, 1 to {MAX_NESTED}.")] = None,
        before: Annotated[str | None, strawberry.argument(description="Orders before this cursor (a `startCursor`).")] = None,
    ) -> OrderConnectionType:
        request = page_request(first, after, last, before, default=20, max_size=MAX_NESTED)
        cursor = None
        if request.cursor is not None:
            cursor = decode_order_cursor(request.cursor, "before" if request.backward else "after")
        page = await loaders.order_pages_by_customer_loader(info.context).load(
            (self.row.id, request.size, request.backward, cursor))
        edges = [OrderEdgeType(cursor=encode_order_cursor(row), node=OrderType.from_model(row)) for row in page.orders]
        more, earlier = (cursor is not None, page.has_more) if request.backward else (page.has_more, cursor is not None)
        return OrderConnectionType(
            edges=edges, nodes=[edge.node for edge in edges], customer_id=self.row.id,
            page_info=PageInfoType(has_next_page=more, has_previous_page=earlier,
                                   start_cursor=edges[0].cursor if edges else None,
                                   end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description=f"Products bought in counted orders, most units first; at most {MAX_NESTED}. Cost: "
                      "`first` (default 20) per customer.", metadata=page_cost("first", default=20, max_size=MAX_NESTED))
    async def products_bought(
        self, info: Info,
        first: Annotated[int, strawberry.argument(description=f"How many, 1 to {MAX_NESTED}.")] = 20,
    ) -> list[BoughtProductType]:
        size = _nested(first)
        rows = await loaders.products_by_customer_loader(info.context).load(self.row.id)
        currency = info.context.require().currency
        return [BoughtProductType.from_model(row, currency) for row in rows[:size]]

    @strawberry.field(description="Total sales, refunds, net revenue, orders, AOV, first and last order. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def revenue(self, info: Info) -> CustomerRevenueType:
        stats = await loaders.revenue_by_customer_loader(info.context).load(self.row.id)
        return CustomerRevenueType.from_model(stats, info.context.require().currency)

    @strawberry.field(description="The latest activity events, newest first; at most 100. Cost: `first` (default 10) "
                      "per customer.", metadata=page_cost("first", default=10, max_size=100))
    async def recent_events(self, info: Info, first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 10) -> list[ActivityEventType]:
        rows = await loaders.events_by_customer_loader(info.context).load((self.row.id, _nested(first)))
        return [ActivityEventType.from_model(row) for row in rows]

    @strawberry.field(description="Value and frequency segment today; null for prospects (no counted order). Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def spender_segment(self, info: Info) -> CustomerSpenderSegmentType | None:
        segment = await loaders.spender_segment_by_customer_loader(info.context).load(self.row.id)
        return CustomerSpenderSegmentType.from_model(segment, info.context.require().currency) if segment else None

    @strawberry.field(description="RFM cell and segment over a range (default LAST_30_DAYS); null off the grid. "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30). Counted once per place it is written, not per customer: the scores of a "
                      "range are computed once for all the customers of a request.",
                      metadata=range_cost(20, shared=True))
    async def rfm(
        self, info: Info,
        date_range: Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)] = None,
        preset: Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)] = None,
        scheme: Annotated[RfmScheme | None, strawberry.argument(description="Scoring scheme; default: the store's.")] = None,
    ) -> CustomerRfmType | None:
        store = info.context.require()
        resolved = resolve_range_arguments(store, date_range, preset)
        chosen = (scheme or store.analytics_settings.rfm_scheme).value
        key = (self.row.id, resolved.first_day, resolved.last_day, chosen)
        found = await loaders.rfm_by_customer_loader(info.context).load(key)
        return CustomerRfmType.from_model(found, store.currency) if found else None

    @strawberry.field(description="Predicted lifetime value from the store's latest CLV fit; null for prospects or before a fit. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def clv(self, info: Info) -> Annotated[CustomerClvType, strawberry.lazy("crm_graph.graphql.lifecycle.types")] | None:
        from crm_graph.graphql.lifecycle.dataloaders import clv_by_customer_loader
        from crm_graph.graphql.lifecycle.types import CustomerClvType

        row = await clv_by_customer_loader(info.context).load(self.row.id)
        return CustomerClvType.from_model(row) if row else None

    @strawberry.field(description="Lifecycle stage as of the store's today; null for prospects (no counted order). Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def lifecycle_stage(self, info: Info) -> Annotated[LifecycleStage, strawberry.lazy("crm_graph.graphql.lifecycle.types")] | None:
        from crm_graph.graphql.lifecycle.dataloaders import stage_by_customer_loader

        return await stage_by_customer_loader(info.context).load(self.row.id)

    @classmethod
    def from_model(cls, customer: Customer) -> CustomerType:
        """The GraphQL view of a customer row."""
        return cls(
            id=global_id("Customer", customer.id), email=customer.email, phone=customer.phone,
            first_name=customer.first_name, last_name=customer.last_name, gender=Gender(customer.gender),
            country=customer.country, city=customer.city, identified=customer.is_identified,
            acquisition_channel=customer.acquisition_channel,
            created_at=customer.created_at, last_activity_at=customer.last_activity_at,
            orders_count=customer.orders_count, first_order_at=customer.first_order_at,
            last_order_at=customer.last_order_at, row=customer,
        )


@strawberry.type(name="FacetCount", description="One value of a facet and how many customers of the filter have it.")
class FacetCountType:
    value: str | None = strawberry.field(description="The value to filter by (country code, product id, band, year).")
    label: str = strawberry.field(description="What to show.")
    count: int = strawberry.field(description="Customers of the current filter with this value.")


def _facets(rows) -> list[FacetCountType]:
    return [FacetCountType(value=row.value, label=row.label, count=row.count) for row in rows]


@strawberry.type(name="CustomerFacets", description="Counts of the filtered customers by country, product, revenue band and cohort.")
class CustomerFacetsType:
    filter: strawberry.Private[CustomerFilter]

    @strawberry.field(description=f"Customers per country, most first (null value: no country); at most `limit` values "
                      f"(at most {MAX_FACET_VALUES}). Cost: 10 (it reads every matching customer).", metadata=field_cost(10))
    async def countries(self, info: Info, limit: Annotated[int, strawberry.argument(description=f"How many values, 1 to {MAX_FACET_VALUES}.")] = 20) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.country_facet, self.filter, limit))

    @strawberry.field(description=f"Products by how many of the customers bought them (counted orders), most first; at most "
                      f"`limit` values (at most {MAX_FACET_VALUES}). Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def products(self, info: Info, limit: Annotated[int, strawberry.argument(description=f"How many values, 1 to {MAX_FACET_VALUES}.")] = 20) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.product_facet, self.filter, limit))

    @strawberry.field(description="Customers per revenue band: TOP, MIDDLE, BOTTOM, NONE (at most 4). Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def revenue_bands(self, info: Info) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.revenue_band_facet, self.filter))

    @strawberry.field(description=f"Customers per local year in which they were first seen, newest first (at most "
                      f"{MAX_FACET_VALUES} years). Cost: 10 (it reads every matching customer).", metadata=field_cost(10))
    async def customer_since(self, info: Info) -> list[FacetCountType]:
        rows = await info.context.run(facet_service.customer_since_facet, self.filter)
        return _facets(rows[:MAX_FACET_VALUES])


@strawberry.type(name="CustomerEdge", description="A customer of the list and its cursor.")
class CustomerEdgeType:
    cursor: str = strawberry.field(description="Pass as `after` (or `before`) to page from this customer.")
    node: CustomerType = strawberry.field(description="The customer.")


@strawberry.type(name="CustomerConnection", description="A page of customers of a filter, in the order asked for.")
class CustomerConnection:
    edges: list[CustomerEdgeType] = strawberry.field(description="The customers of this page with their cursors.")
    nodes: list[CustomerType] = strawberry.field(description="The customers of this page.")
    page_info: PageInfoType = strawberry.field(description="Where this page is in the whole list.")
    filter: strawberry.Private[CustomerFilter]

    @strawberry.field(description="How many customers match, over all pages. Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def total_count(self, info: Info) -> int:
        return await info.context.run(count_customers, self.filter)

    @strawberry.field(description="Facet counts for the same filter.")
    def facets(self) -> CustomerFacetsType:
        return CustomerFacetsType(filter=self.filter)

    @classmethod
    async def page(cls, info: Info, filter: CustomerFilter, *, sort: CustomerSort, direction: SortDirection,
                   first: int | None, after: str | None, last: int | None, before: str | None) -> CustomerConnection:
        """The page of the customers of `filter` that the Relay arguments ask for, keyset-paged in SQL."""
        max_size = get_settings().max_page_size
        request = page_request(first, after, last, before, default=min(50, max_size), max_size=max_size)
        page = await info.context.run(
            customers_page, filter, sort=sort, direction=direction, size=request.size, backward=request.backward,
            cursor=request.cursor, max_page_size=max_size,
        )
        edges = [CustomerEdgeType(cursor=cursor, node=CustomerType.from_model(row))
                 for row, cursor in zip(page.customers, page.cursors)]
        return cls(
            edges=edges, nodes=[edge.node for edge in edges], filter=filter,
            page_info=PageInfoType(has_next_page=page.has_next_page, has_previous_page=page.has_previous_page,
                                   start_cursor=page.start_cursor, end_cursor=page.end_cursor),
        )


__all__ = [
    "ConsentBucket", "CustomerConnection", "CustomerEdgeType", "CustomerFacetsType", "CustomerIdentityType", "CustomerType",
]
