"""apiKeyRevoke: stop a key of the caller's store from working."""

from typing import Annotated

import strawberry

from crm_graph.errors import NotFound
from crm_graph.graphql.api_keys.types import ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.graphql.ids import parse_id
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import revoke_api_key


@strawberry.mutation(description="Revoke an API key of the store; requests with it fail from now on.")
async def api_key_revoke(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id of the key (from `apiKeys`).")]
) -> ApiKeyType:
    key_id = parse_id(id)
    if key_id is None:
        info.context.require(Role.ADMIN)
        raise NotFound(f"The store has no API key {str(id)[:40]!r}.")
    key = await info.context.run(revoke_api_key, key_id, role=Role.ADMIN)
    return ApiKeyType.from_model(key)
