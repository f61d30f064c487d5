"""The Strawberry ASGI view: authenticates the request and builds its `Context`."""

from __future__ import annotations

import ipaddress
import logging

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from strawberry.asgi import GraphQL

from crm_graph.db import session_scope
from crm_graph.graphql.context import Context
from crm_graph.graphql.errors import is_database_unavailable, is_query_timeout
from crm_graph.graphql.fairness import StoreLimits
from crm_graph.graphql.result_cache import ResultCache
from crm_graph.models import ApiKey, Store
from crm_graph.models.enums import Role
from crm_graph.models.types import utcnow
from crm_graph.services.api_keys import (
    authenticate, hash_key, looks_like_key, needs_touch, recall, remember, touch_api_key,
)
from crm_graph.services.stores import get_store
from crm_graph.settings import Settings

log = logging.getLogger("crm_graph.auth")

MISSING_KEY = ("An API key is required: send `Authorization: Bearer <key>` (`crm-graph keys create`).",
               "UNAUTHENTICATED")
BAD_SCHEME = ("The Authorization header must be `Bearer <key>`.", "UNAUTHENTICATED")
INVALID_KEY = ("This API key is not valid: it is unknown or has been revoked.", "UNAUTHENTICATED")
UNAVAILABLE = ("The database is unavailable; retry shortly.", "SERVICE_UNAVAILABLE")


class CrmGraphQL(GraphQL):
    """`strawberry.asgi.GraphQL` with crm-graph's context: the caller's store and role.

    A request with ``Authorization: Bearer <key>`` acts on the key's store with the key's role; a
    wrong, unknown or revoked key acts on nothing (every field answers UNAUTHENTICATED, it never
    falls back to another mode). A request without the header acts on the development store as
    admin only when one is configured, outside production, and from a loopback address; otherwise it
    gets no store either.
    """

    def __init__(self, schema, *, engine: Engine, settings: Settings, **kwargs) -> None:
        super().__init__(schema, **kwargs)
        self.engine = engine
        self.settings = settings
        self.results = ResultCache(settings.dashboard_cache_seconds)
        self.limits = StoreLimits.from_settings(settings)

    async def get_context(self, request: Request, response) -> Context:
        context = Context(engine=self.engine, request=request, response=response, results=self.results,
                          limits=self.limits)
        header = request.headers.get("authorization")
        try:
            if header is None:
                if self._dev_store_applies(request):
                    context.store = await anyio.to_thread.run_sync(self._dev_store)
                    context.role = Role.ADMIN
                else:
                    context.auth_error = MISSING_KEY
                return context
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                context.auth_error = BAD_SCHEME
                return context
            found = await self._authenticate(token)
        except SQLAlchemyError as exc:
            if not (is_database_unavailable(exc) or is_query_timeout(exc)):
                raise
            log.warning("authentication failed, database unavailable: %s", str(exc).strip().splitlines()[0])
            context.auth_error = UNAVAILABLE
            return context
        if found is None:
            context.auth_error = INVALID_KEY
        else:
            key, store = found
            context.store, context.role, context.api_key_id = store, Role(key.role), key.id
        return context

    def _dev_store_applies(self, request: Request) -> bool:
        """The development store serves key-less requests only outside production and from this machine."""
        if not self.settings.dev_store or self.settings.production:
            return False
        host = request.client.host if request.client else ""
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    async def _authenticate(self, token: str) -> tuple[ApiKey, Store] | None:
        """The key and store of `token`, from this process's recent keys or the database."""
        if not looks_like_key(token):
            return None
        found = recall(hash_key(token), self.settings.auth_cache_seconds)
        if found is None:
            found = await anyio.to_thread.run_sync(self._look_up, token)
            if found is None:
                return None
        key = found[0]
        if needs_touch(key):
            key.last_used_at = utcnow()  # this process's copy; the row is written below
            await anyio.to_thread.run_sync(self._touch, key.id)
        return found

    def _look_up(self, token: str) -> tuple[ApiKey, Store] | None:
        with session_scope(self.engine, statement_timeout=self.limits.statement_timeout) as session:
            found = authenticate(session, token)
        if found is not None:
            remember(*found)
        return found

    def _touch(self, key_id: int) -> None:
        try:
            with session_scope(self.engine, statement_timeout=self.limits.statement_timeout) as session:
                touch_api_key(session, key_id)
        except SQLAlchemyError as exc:  # the key is valid; its last-use time is best effort
            log.warning("could not record the use of API key %s: %s", key_id, exc)

    def _dev_store(self) -> Store:
        with session_scope(self.engine, statement_timeout=self.limits.statement_timeout) as session:
            return get_store(session, self.settings.dev_store)
