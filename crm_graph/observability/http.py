"""The request id of every HTTP request, the HTTP and GraphQL series, and the `/metrics` endpoint.

`RequestContext` is plain ASGI (no `BaseHTTPMiddleware`): it takes the client's ``X-Request-Id``
when it is a plain token (else makes one), puts it in the logging context, returns it as a response
header, and counts the answer by route. `MeasuredGraphQL` is the GraphQL view that times each
operation and counts its errors by code.
"""

from __future__ import annotations

import hmac
import time
from contextvars import ContextVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from crm_graph.graphql.view import CrmGraphQL
from crm_graph.observability import context, metrics

#: The route label of a path: its first segment when the app has such a route, "dashboard" for the
#: page at /, else "other".
_ROUTES = {"graphql", "health", "ready", "exports", "webhooks", "metrics", "assets"}


def route_label(path: str) -> str:
    """A bounded label for `path` (never the raw path: it is the client's text)."""
    first = path.strip("/").split("/", 1)[0]
    if not first:
        return "dashboard"
    return first if first in _ROUTES else "other"


class RequestContext:
    """Gives every HTTP request an id (``X-Request-Id``) and counts its answer; see the module docstring."""

    def __init__(self, app: ASGIApp, *, engine=None) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = context.new_request_id(sent)
        token = context.request_id.set(request_id)
        store_token = context.store_id.set(None)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(route_label(scope.get("path", "")),
                                         method if method in ("GET", "POST", "OPTIONS", "HEAD") else "other",
                                         str(status)).inc()
            if self.engine is not None:
                metrics.record_pool(self.engine)
            context.store_id.reset(store_token)
            context.request_id.reset(token)


#: The operation name Strawberry found in the document of the operation being run.
_operation: ContextVar[dict | None] = ContextVar("crm_graph_operation", default=None)


class OperationName(SchemaExtension):
    """Notes the operation's name (the document's, when the request names none) for `MeasuredGraphQL`."""

    def on_operation(self):
        try:
            yield
        finally:
            holder = _operation.get()
            if holder is not None:
                try:
                    holder["name"] = self.execution_context.operation_name
                except Exception:  # noqa: BLE001  (a document that did not parse has no name)
                    holder["name"] = self.execution_context._provided_operation_name  # noqa: SLF001


class MeasuredGraphQL(CrmGraphQL):
    """`CrmGraphQL` that counts and times each operation, and puts the caller's store in the log context."""

    def __init__(self, schema, **kwargs) -> None:
        schema.extensions = [*schema.extensions, OperationName]
        super().__init__(schema, **kwargs)

    async def get_context(self, request, response):
        found = await super().get_context(request, response)
        if found.store is not None:
            context.store_id.set(found.store.id)
        return found

    async def execute_single(self, *args, **kwargs):
        holder: dict = {"name": None}
        token = _operation.set(holder)
        started = time.perf_counter()
        result = None
        try:
            result = await super().execute_single(*args, **kwargs)
            return result
        finally:
            _operation.reset(token)
            request_data = kwargs.get("request_data")
            name = holder["name"] or getattr(request_data, "operation_name", None)
            metrics.record_operation(name, time.perf_counter() - started, result)


def metrics_endpoint(engine, token: str | None):
    """The `/metrics` handler: Prometheus text; with `token`, only for ``Authorization: Bearer <token>``."""

    async def handle(request: Request) -> Response:
        if token is not None and not _bearer_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "Send `Authorization: Bearer <CRM_GRAPH_METRICS_TOKEN>`."},
                                status_code=401, headers={"www-authenticate": "Bearer"})
        from starlette.concurrency import run_in_threadpool

        body = await run_in_threadpool(metrics.exposition, engine)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    return handle


def _bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, sent = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
