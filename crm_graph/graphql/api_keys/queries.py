"""Root query fields of API keys (admin keys only)."""

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.api_keys.types import ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import list_api_keys


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="The store's API keys, revoked ones included, newest first (admin keys only). Cost: 1.",
                      metadata=field_cost(1))
    async def api_keys(self, info: Info) -> list[ApiKeyType]:
        rows = await info.context.run(list_api_keys, role=Role.ADMIN)
        return [ApiKeyType.from_model(row) for row in rows]
