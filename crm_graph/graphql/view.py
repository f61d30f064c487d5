"""The Strawberry ASGI view: authenticates the request and builds its `Context`."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from typing import Any

import anyio.to_thread
from cross_web import HTTPException
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

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
http_log = logging.getLogger("crm_graph.http")

#: How deeply the JSON of a request may nest (objects and arrays). No input of the schema comes near
#: it; far deeper documents would exhaust the recursion of the JSON parser or of graphql-core's
#: coercion of variable values.
MAX_JSON_DEPTH = 32

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

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package's vendored files (Strawberry's page loads them from a CDN)."""
        from crm_graph.web.pages import GRAPHIQL_CSP, graphiql_html, page_response

        return page_response(graphiql_html(), GRAPHIQL_CSP)

    async def run(self, request, context=UNSET, root_value=UNSET):
        """Run the request; a request Strawberry refuses (HTTP 4xx) is logged in one line."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            client = request.client.host if request.client else "?"
            http_log.info("refused a GraphQL request from %s with %s: %s", client, exc.status_code, exc.reason)
            raise

    async def parse_http_body(self, request):
        """Strawberry's parsing, plus: a client that goes away before its whole body is a 400."""
        try:
            return await super().parse_http_body(request)
        except ClientDisconnect:
            raise HTTPException(400, "The request body was not received completely.") from None

    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON (the body, or the `variables` of a GET), or HTTP 400 saying what is wrong.

        Strawberry's own parsing lets through what is valid JSON but no request (``null``, ``7``,
        ``"x"``), and fails with an unhandled exception on bytes that are not UTF-8, numbers over
        Python's 4,300-digit limit and deep nesting. Here each is a 400: the body must be UTF-8 JSON
        text whose top level is an object (or an array: a batch, which Strawberry then refuses),
        without NaN or infinite numbers, nested at most `MAX_JSON_DEPTH` deep.
        """
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not UTF-8 text.") from None
        except RecursionError:
            raise HTTPException(400, f"The request JSON is nested more than {MAX_JSON_DEPTH} deep.") from None
        except ValueError as exc:  # JSONDecodeError, and numbers json cannot or may not represent
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split(";")[0]
            raise HTTPException(400, f"Unable to parse request body as JSON: {reason}.") from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "The request JSON must be an object with a `query`.")
        if _json_depth(value) > MAX_JSON_DEPTH:
            raise HTTPException(400, f"The request JSON is nested more than {MAX_JSON_DEPTH} deep.")
        return value

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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _json_depth(value: Any) -> int:
    """How deeply `value` (decoded JSON) nests; iterative, so any depth json accepted is measured safely."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in items)
    return deepest
