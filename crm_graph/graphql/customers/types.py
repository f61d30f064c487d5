"""GraphQL types of customers: the customer (with Customer 360), the list page and its facets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_graph.graphql.cost import field_cost, page_cost, range_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers import dataloaders as loaders
from crm_graph.graphql.customers.profile_types import (
    ActivityEventType, BoughtProductType, ConsentEventType, CurrentConsentType, CustomerRevenueType,
    CustomerRfmType, CustomerSpenderSegmentType, CustomerTagType, OrderType,
)
from crm_graph.graphql.dates import PRESET_DESCRIPTION, RANGE_DESCRIPTION, DatePreset, DateRangeInput, resolve_range_arguments
from crm_graph.graphql.enums import Channel, ConsentState, Gender, OptInLevel, RfmScheme
from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerIdentity
from crm_graph.models.enums import ConsentBucket
from crm_graph.services.customers import facets as facet_service
from crm_graph.services.customers.listing import count_customers
from crm_graph.services.filters import CustomerFilter, consent_bucket_of

#: The most orders or events one customer shows in one request.
MAX_NESTED = 100

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
class CustomerType:
    id: strawberry.ID = strawberry.field(description="Internal id of the customer.")
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
    total_spent: Decimal = strawberry.field(description="Lifetime net revenue: counted order totals minus refunds.")
    first_order_at: datetime | None = strawberry.field(description="When the first counted order was placed.")
    last_order_at: datetime | None = strawberry.field(description="When the latest counted order was placed.")

    @strawberry.field(description="The customer's ids in each source (CRM IDs). Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def identities(self, info: Info) -> list[CustomerIdentityType]:
        rows = await loaders.identities_by_customer_loader(info.context).load(int(self.id))
        return [CustomerIdentityType.from_model(row) for row in rows]

    @strawberry.field(description="Consent now, one entry per channel (EMAIL, SMS), from the latest event. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def consents(self, info: Info) -> list[CurrentConsentType]:
        history = await loaders.consents_by_customer_loader(info.context).load(int(self.id))
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

    @strawberry.field(description="The consent history, newest first; one channel or all. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def consent_history(self, info: Info, channel: Annotated[Channel | None, strawberry.argument(description="Only this channel; none: both.")] = None) -> list[ConsentEventType]:
        history = await loaders.consents_by_customer_loader(info.context).load(int(self.id))
        return [ConsentEventType.from_model(e) for e in history if channel is None or e.channel == channel.value]

    @strawberry.field(description="The tags on the customer now, by name. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def tags(self, info: Info) -> list[CustomerTagType]:
        rows = await loaders.tags_by_customer_loader(info.context).load(int(self.id))
        return [CustomerTagType.from_model(row) for row in rows]

    @strawberry.field(description="The latest orders (any status), newest first; at most 100. Cost: `first` (default 20) "
                      "per customer, and what each order selects costs `first` times.",
                      metadata=page_cost("first", default=20, max_size=100))
    async def orders(self, info: Info, first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 20) -> list[OrderType]:
        rows = await loaders.orders_by_customer_loader(info.context).load((int(self.id), _nested(first)))
        return [OrderType.from_model(row) for row in rows]

    @strawberry.field(description="Products bought in counted orders, most units first. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def products_bought(self, info: Info) -> list[BoughtProductType]:
        rows = await loaders.products_by_customer_loader(info.context).load(int(self.id))
        return [BoughtProductType.from_model(row) for row in rows]

    @strawberry.field(description="Total sales, refunds, net revenue, orders, AOV, first and last order. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def revenue(self, info: Info) -> CustomerRevenueType:
        stats = await loaders.revenue_by_customer_loader(info.context).load(int(self.id))
        return CustomerRevenueType.from_model(stats)

    @strawberry.field(description="The latest activity events, newest first; at most 100. Cost: `first` (default 10) "
                      "per customer.", metadata=page_cost("first", default=10, max_size=100))
    async def recent_events(self, info: Info, first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 10) -> list[ActivityEventType]:
        rows = await loaders.events_by_customer_loader(info.context).load((int(self.id), _nested(first)))
        return [ActivityEventType.from_model(row) for row in rows]

    @strawberry.field(description="Value and frequency segment today; null for prospects (no counted order). Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def spender_segment(self, info: Info) -> CustomerSpenderSegmentType | None:
        segment = await loaders.spender_segment_by_customer_loader(info.context).load(int(self.id))
        return CustomerSpenderSegmentType.from_model(segment) if segment else None

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
        key = (int(self.id), resolved.first_day, resolved.last_day, chosen)
        found = await loaders.rfm_by_customer_loader(info.context).load(key)
        return CustomerRfmType.from_model(found) if found else None

    @strawberry.field(description="Predicted lifetime value from the store's latest CLV fit; null for prospects or before a fit. Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def clv(self, info: Info) -> Annotated[CustomerClvType, strawberry.lazy("crm_graph.graphql.lifecycle.types")] | None:
        from crm_graph.graphql.lifecycle.dataloaders import clv_by_customer_loader
        from crm_graph.graphql.lifecycle.types import CustomerClvType

        row = await clv_by_customer_loader(info.context).load(int(self.id))
        return CustomerClvType.from_model(row) if row else None

    @strawberry.field(description="Lifecycle stage as of the store's today; null for prospects (no counted order). Cost: 1 (per customer: it is multiplied by the page around it).",
                      metadata=field_cost(1))
    async def lifecycle_stage(self, info: Info) -> Annotated[LifecycleStage, strawberry.lazy("crm_graph.graphql.lifecycle.types")] | None:
        from crm_graph.graphql.lifecycle.dataloaders import stage_by_customer_loader

        return await stage_by_customer_loader(info.context).load(int(self.id))

    @classmethod
    def from_model(cls, customer: Customer) -> CustomerType:
        """The GraphQL view of a customer row."""
        return cls(
            id=strawberry.ID(str(customer.id)), email=customer.email, phone=customer.phone,
            first_name=customer.first_name, last_name=customer.last_name, gender=Gender(customer.gender),
            country=customer.country, city=customer.city, identified=customer.is_identified,
            acquisition_channel=customer.acquisition_channel,
            created_at=customer.created_at, last_activity_at=customer.last_activity_at,
            orders_count=customer.orders_count, total_spent=customer.total_spent,
            first_order_at=customer.first_order_at, last_order_at=customer.last_order_at,
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

    @strawberry.field(description="Customers per country, most first (null value: no country). Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def countries(self, info: Info, limit: Annotated[int, strawberry.argument(description="How many values, 1 to 100.")] = 20) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.country_facet, self.filter, limit))

    @strawberry.field(description="Products by how many of the customers bought them (counted orders), most first. Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def products(self, info: Info, limit: Annotated[int, strawberry.argument(description="How many values, 1 to 100.")] = 20) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.product_facet, self.filter, limit))

    @strawberry.field(description="Customers per revenue band (TOP, MIDDLE, BOTTOM, NONE). Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def revenue_bands(self, info: Info) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.revenue_band_facet, self.filter))

    @strawberry.field(description="Customers per local year in which they were first seen, newest first. Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def customer_since(self, info: Info) -> list[FacetCountType]:
        return _facets(await info.context.run(facet_service.customer_since_facet, self.filter))


@strawberry.type(description="A page of customers.")
class CustomerConnection:
    nodes: list[CustomerType] = strawberry.field(description="The customers of this page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")
    has_next_page: bool = strawberry.field(description="Whether another page follows.")
    filter: strawberry.Private[CustomerFilter]

    @strawberry.field(description="How many customers match, over all pages. Cost: 10 (it reads every matching customer).",
                      metadata=field_cost(10))
    async def total_count(self, info: Info) -> int:
        return await info.context.run(count_customers, self.filter)

    @strawberry.field(description="Facet counts for the same filter.")
    def facets(self) -> CustomerFacetsType:
        return CustomerFacetsType(filter=self.filter)


__all__ = ["ConsentBucket", "CustomerConnection", "CustomerFacetsType", "CustomerIdentityType", "CustomerType"]
