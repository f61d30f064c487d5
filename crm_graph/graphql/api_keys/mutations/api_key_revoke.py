"""`apiKeyRevoke`: stop a key of the caller's store from working (admin keys only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.api_keys.types import ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.graphql.mutation_errors import FieldNotFound, NotFoundErrorType, error_result
from crm_graph.graphql.relay import require_row_id
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import revoke_api_key

ApiKeyRevokeResult = Annotated[
    ApiKeyType | NotFoundErrorType,
    strawberry.union("ApiKeyRevokeResult", description="The revoked key, or why nothing was revoked."),
]


@strawberry.mutation(description="Revoke an API key of the store; requests with it fail from now on. Revoking a "
                     "revoked key changes nothing and returns it. Returns a NotFoundError when the store has no key "
                     "with this id. Needs an admin key.")
async def api_key_revoke(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the key (from `apiKeys`).")]
) -> ApiKeyRevokeResult:
    info.context.require(Role.ADMIN)
    try:
        key_id = require_row_id(id, "ApiKey")
        try:
            key = await info.context.run(revoke_api_key, key_id, role=Role.ADMIN)
        except UserError as exc:
            raise FieldNotFound(f"`id`: there is no API key {str(id)[:60]!r} in this store.", field="id") from exc
    except UserError as exc:
        return error_result(exc)
    return ApiKeyType.from_model(key)
