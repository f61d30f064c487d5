"""`apiKeyCreate`: a new key for the caller's store (admin keys only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.api_keys.types import ApiKeyCreatedType, ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.graphql.enums import Role as RoleEnum
from crm_graph.graphql.mutation_errors import ValidationErrorType, error_result
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import create_api_key

ApiKeyCreateResult = Annotated[
    ApiKeyCreatedType | ValidationErrorType,
    strawberry.union("ApiKeyCreateResult", description="The new key, or why none was created."),
]


@strawberry.mutation(description="Create an API key of the store with `role`; the key is in the answer only. "
                     "Returns a ValidationError when `name` is too long. Needs an admin key.")
async def api_key_create(
    info: Info,
    role: Annotated[RoleEnum, strawberry.argument(description="What the new key may do.")],
    name: Annotated[str, strawberry.argument(description="What the key is for (at most 200 characters).")] = "",
) -> ApiKeyCreateResult:
    try:
        key, plain = await info.context.run(create_api_key, Role(role.value), name, role=Role.ADMIN)
    except UserError as exc:
        return error_result(exc)
    return ApiKeyCreatedType(api_key=ApiKeyType.from_model(key), key=plain)
