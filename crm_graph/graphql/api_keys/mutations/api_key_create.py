"""apiKeyCreate: a new key for the caller's store."""

from typing import Annotated

import strawberry

from crm_graph.graphql.api_keys.types import ApiKeyCreatedType, ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.graphql.enums import Role as RoleEnum
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import create_api_key


@strawberry.mutation(description="Create an API key of the store with `role`; the key is in the answer only.")
async def api_key_create(
    info: Info,
    role: Annotated[RoleEnum, strawberry.argument(description="What the new key may do.")],
    name: Annotated[str, strawberry.argument(description="What the key is for (at most 200 characters).")] = "",
) -> ApiKeyCreatedType:
    key, plain = await info.context.run(create_api_key, Role(role.value), name, role=Role.ADMIN)
    return ApiKeyCreatedType(api_key=ApiKeyType.from_model(key), key=plain)
