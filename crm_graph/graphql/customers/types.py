"""GraphQL types of customers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.dataloaders import identities_by_customer_loader
from crm_graph.graphql.enums import Gender
from crm_graph.models import Customer, CustomerIdentity

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
        return cls(source=identity.source, external_id=identity.external_id)


@strawberry.type(name="Customer", description="A person the store knows: identified, or an anonymous visitor.")
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
    created_at: datetime = strawberry.field(description="When the customer was first seen.")
    last_activity_at: datetime | None = strawberry.field(description="The latest activity (visit, email, order).")
    orders_count: int = strawberry.field(description="Lifetime number of counted orders (paid, completed, refunded).")
    total_spent: Decimal = strawberry.field(description="Lifetime net revenue: counted order totals minus refunds.")
    first_order_at: datetime | None = strawberry.field(description="When the first counted order was placed.")
    last_order_at: datetime | None = strawberry.field(description="When the latest counted order was placed.")

    @strawberry.field(description="The customer's ids in each source (CRM IDs).")
    async def identities(self, info: Info) -> list[CustomerIdentityType]:
        rows = await identities_by_customer_loader(info.context).load(int(self.id))
        return [CustomerIdentityType.from_model(row) for row in rows]

    @strawberry.field(description="Predicted lifetime value from the store's latest CLV fit; null for prospects or before a fit.")
    async def clv(self, info: Info) -> Annotated[CustomerClvType, strawberry.lazy("crm_graph.graphql.lifecycle.types")] | None:
        from crm_graph.graphql.lifecycle.dataloaders import clv_by_customer_loader
        from crm_graph.graphql.lifecycle.types import CustomerClvType

        row = await clv_by_customer_loader(info.context).load(int(self.id))
        return CustomerClvType.from_model(row) if row else None

    @strawberry.field(description="Lifecycle stage as of the store's today; null for prospects (no counted order).")
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
            created_at=customer.created_at, last_activity_at=customer.last_activity_at,
            orders_count=customer.orders_count, total_spent=customer.total_spent,
            first_order_at=customer.first_order_at, last_order_at=customer.last_order_at,
        )


@strawberry.type(description="A page of customers.")
class CustomerConnection:
    nodes: list[CustomerType] = strawberry.field(description="The customers of this page.")
    total_count: int = strawberry.field(description="How many customers match, over all pages.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")
    has_next_page: bool = strawberry.field(description="Whether another page follows.")
