"""apiKeyRevoke: stop a key of the caller's store from working."""

from typing import Annotated

import strawberry

from crm_graph.errors import NotFound
from crm_graph.graphql.api_keys.types import ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import revoke_api_key


@strawberry.mutation(description="Revoke an API key of the store; requests with it fail from now on.")
async def api_key_revoke(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id of the key (from `apiKeys`).")]
) -> ApiKeyType:
    if not str(id).isdigit() or len(str(id)) > 19:
        raise NotFound(f"The store has no API key {str(id)[:40]!r}.")
    key = await info.context.run(revoke_api_key, int(id), role=Role.ADMIN)
    return ApiKeyType.from_model(key)
