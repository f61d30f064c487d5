"""Root query fields of the store domain."""

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.store.types import StoreType


@strawberry.type
class StoreQuery:
    @strawberry.field(description="The store of the API key that makes the request. Cost: 1.", metadata=field_cost(1))
    def store(self, info: Info) -> StoreType:
        return StoreType.from_model(info.context.require())
