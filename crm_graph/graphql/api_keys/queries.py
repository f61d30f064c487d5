"""Root query fields of API keys (admin keys only), and `node(id:)` of a key."""

from __future__ import annotations

import strawberry

from crm_graph.graphql.api_keys.types import ApiKeyConnection, ApiKeyType
from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import page_cost
from crm_graph.graphql.pages import After, Before, First, Last, requested_page
from crm_graph.graphql.relay import register_node
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import api_keys_by_id, api_keys_page

#: Keys of a page when the client gives no size.
DEFAULT_PAGE = 50


async def load_api_keys(info: Info, key_ids: list[int]) -> dict[int, ApiKeyType]:
    """The request store's keys among `key_ids` (for `node(id:)`). Only admin keys see keys (as in `apiKeys`);
    to other keys there are none, so a `nodes(ids:)` mixing keys with other objects still answers the rest."""
    info.context.require()
    if info.context.role is not Role.ADMIN:
        return {}
    rows = await info.context.run(api_keys_by_id, key_ids, role=Role.ADMIN)
    return {key_id: ApiKeyType.from_model(row) for key_id, row in rows.items()}


register_node("ApiKey", load_api_keys)


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="The store's API keys, revoked ones included, newest first (admin keys only). "
                      f"Cost: `first` or `last` (default {DEFAULT_PAGE}).", metadata=page_cost("first", default=DEFAULT_PAGE))
    async def api_keys(self, info: Info, first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> ApiKeyConnection:
        info.context.require(Role.ADMIN)
        request = requested_page(first, after, last, before, default=DEFAULT_PAGE)
        page = await info.context.run(api_keys_page, size=request.size, backward=request.backward,
                                      cursor=request.cursor, role=Role.ADMIN)
        return ApiKeyConnection.from_model(page)
