"""The Strawberry ASGI view: authenticates the request and builds its `Context`."""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy.engine import Engine
from starlette.requests import Request
from strawberry.asgi import GraphQL

from crm_graph.db import session_scope
from crm_graph.graphql.context import Context
from crm_graph.models.enums import Role
from crm_graph.services.api_keys import authenticate
from crm_graph.services.stores import get_store
from crm_graph.settings import Settings


class CrmGraphQL(GraphQL):
    """`strawberry.asgi.GraphQL` with crm-graph's context: the caller's store and role.

    A request with ``Authorization: Bearer <key>`` acts on the key's store with the key's role. A
    request without a key acts on the development store as admin when one is configured (never in
    production); otherwise it gets no store and every field answers UNAUTHENTICATED.
    """

    def __init__(self, schema, *, engine: Engine, settings: Settings, **kwargs) -> None:
        super().__init__(schema, **kwargs)
        self.engine = engine
        self.settings = settings

    async def get_context(self, request: Request, response) -> Context:
        context = Context(engine=self.engine, request=request, response=response)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            found = await anyio.to_thread.run_sync(self._authenticate, token.strip())
            if found is not None:
                key, store = found
                context.store, context.role, context.api_key_id = store, Role(key.role), key.id
        elif not header and self.settings.dev_store and not self.settings.production:
            context.store = await anyio.to_thread.run_sync(self._dev_store)
            context.role = Role.ADMIN
        return context

    def _authenticate(self, token: str):
        with session_scope(self.engine) as session:
            return authenticate(session, token)

    def _dev_store(self):
        with session_scope(self.engine) as session:
            return get_store(session, self.settings.dev_store)
