"""GraphQL type of a store."""

from datetime import datetime

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.models import Store
from crm_graph.services.stores import customer_count


@strawberry.type(name="Store", description="The shop whose data this API key reads and changes; `slug` names it.")
class StoreType:
    slug: str = strawberry.field(description="Short unique name of the store, as the CLI uses it.")
    name: str = strawberry.field(description="Display name of the store.")
    timezone: str = strawberry.field(description="IANA timezone; every metric's days are this zone's local days.")
    currency_code: str = strawberry.field(
        description="ISO 4217 code of the store's currency: every sum, average and threshold across orders is in it.")
    created_at: datetime = strawberry.field(description="When the store was created in crm-graph.")

    @strawberry.field(description="Number of customers of the store, erased customers excluded. Cost: 10 (it counts them).",
                      metadata=field_cost(10))
    async def customer_count(self, info: Info) -> int:
        return await info.context.run(customer_count)

    @classmethod
    def from_model(cls, store: Store) -> "StoreType":
        """The GraphQL view of a store row."""
        return cls(
            slug=store.slug, name=store.name, timezone=store.timezone, currency_code=store.currency,
            created_at=store.created_at,
        )
