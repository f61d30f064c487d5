"""GraphQL types of API keys; the hash is never exposed, the plain key only once at creation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from crm_graph.graphql.enums import Role
from crm_graph.models import ApiKey


@strawberry.type(name="ApiKey", description="An API key of the store; only its first characters are shown.")
class ApiKeyType:
    id: strawberry.ID = strawberry.field(description="Internal id of the key, used to revoke it.")
    name: str = strawberry.field(description="What the key is for.")
    role: Role = strawberry.field(description="What the key may do: READ < WRITE < ADMIN.")
    prefix: str = strawberry.field(description="The first characters of the key, to recognise it.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(description="When the key was last used (to the minute).")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null while it works.")

    @classmethod
    def from_model(cls, key: ApiKey) -> ApiKeyType:
        """The GraphQL view of a key row."""
        return cls(id=strawberry.ID(str(key.id)), name=key.name, role=Role(key.role), prefix=key.prefix,
                   created_at=key.created_at, last_used_at=key.last_used_at, revoked_at=key.revoked_at)


@strawberry.type(name="ApiKeyCreated", description="A new API key; `key` is shown only in this response.")
class ApiKeyCreatedType:
    api_key: ApiKeyType = strawberry.field(description="The stored key (without its secret).")
    key: str = strawberry.field(description="The key to send as `Authorization: Bearer <key>`; not kept.")
