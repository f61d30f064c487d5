"""GraphQL types of API keys; the hash is never exposed, the plain key only once at creation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm_graph.graphql.enums import Role
from crm_graph.graphql.pages import page_info
from crm_graph.graphql.relay import NodeType, PageInfoType, global_id
from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import field_cost
from crm_graph.models import ApiKey
from crm_graph.models.enums import Role as RoleValue
from crm_graph.services.api_keys import api_key_count
from crm_graph.services.keyset import KeysetPage


@strawberry.type(name="ApiKey", description="An API key of the store; only its first characters are shown. "
                 "Its `id` is what `apiKeyRevoke` takes.")
class ApiKeyType(NodeType):
    name: str = strawberry.field(description="What the key is for.")
    role: Role = strawberry.field(description="What the key may do: READ < WRITE < ADMIN.")
    prefix: str = strawberry.field(description="The first characters of the key, to recognise it.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(description="When the key was last used (to the minute).")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null while it works.")

    @classmethod
    def from_model(cls, key: ApiKey) -> ApiKeyType:
        """The GraphQL view of a key row."""
        return cls(id=global_id("ApiKey", key.id), name=key.name, role=Role(key.role), prefix=key.prefix,
                   created_at=key.created_at, last_used_at=key.last_used_at, revoked_at=key.revoked_at)


@strawberry.type(name="ApiKeyCreated", description="A new API key; `key` is shown only in this response.")
class ApiKeyCreatedType:
    api_key: ApiKeyType = strawberry.field(description="The stored key (without its secret).")
    key: str = strawberry.field(description="The key to send as `Authorization: Bearer <key>`; not kept.")


@strawberry.type(name="ApiKeyEdge", description="An API key in a page of keys, with its cursor.")
class ApiKeyEdge:
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from this key.")
    node: ApiKeyType = strawberry.field(description="The key.")


@strawberry.type(name="ApiKeyConnection", description="A page of the store's API keys, newest first.")
class ApiKeyConnection:
    edges: list[ApiKeyEdge] = strawberry.field(description="The keys of this page with their cursors.")
    nodes: list[ApiKeyType] = strawberry.field(description="The keys of this page.")
    page_info: PageInfoType = strawberry.field(description="Where this page is in the whole list.")

    @strawberry.field(description="How many keys the store has, revoked ones included. Cost: 1.", metadata=field_cost(1))
    async def total_count(self, info: Info) -> int:
        return await info.context.run(api_key_count, role=RoleValue.ADMIN)

    @classmethod
    def from_model(cls, page: KeysetPage[ApiKey]) -> ApiKeyConnection:
        """The GraphQL view of a page of key rows."""
        nodes = [ApiKeyType.from_model(row) for row in page.rows]
        return cls(edges=[ApiKeyEdge(cursor=cursor, node=node) for cursor, node in zip(page.cursors, nodes)],
                   nodes=nodes, page_info=page_info(page))
