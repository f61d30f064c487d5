"""ASGI middleware of the API: a last line against unexpected errors, request body size limit and
security headers.

All are plain ASGI (no `BaseHTTPMiddleware`), so they add no task or buffering per request.
"""

from __future__ import annotations

import json
import logging
import uuid

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("crm_graph.http")


class _BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit."""


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413 and a JSON error, before the app parses them.

    The declared Content-Length is checked first; a body without one (chunked) is counted while the
    app reads it, and the request is cut off at the limit. Paths under `own_limit_prefixes` are left
    to their handlers, which enforce a limit of their own (the webhook endpoint: its own size and a
    400 answer, as the platforms' retry rules expect).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_limit_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit_prefixes = own_limit_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.own_limit_prefixes or ("\0",)):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await _json_error(send, 400, "BAD_REQUEST", "The Content-Length header is not a number.")
                return
            if too_large:
                await self._refuse(scope, send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        tracked = _TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except _BodyTooLarge:
            if tracked.started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        client = scope.get("client") or ("?", 0)
        log.warning("refused a request body over %d bytes from %s to %s", self.max_bytes, client[0], scope.get("path"))
        await _json_error(send, 413, "PAYLOAD_TOO_LARGE",
                          f"The request body is over the limit of {self.max_bytes} bytes.")


class _TrackedSend:
    """`send`, remembering whether the response has started: after that, an error can no longer be
    answered with a response of its own."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


async def _json_error(send: Send, status: int, code: str, message: str, **extensions) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


class UnexpectedErrors:
    """Turns an exception that escapes the app into a 500 JSON answer with an error id, logged in one line.

    Without it Starlette answers a plain 500 and re-raises, and the server logs the whole traceback:
    a client that finds a way to raise one could fill the log with a request that costs nothing. The
    specific malformed requests are refused (4xx) where they are parsed; this is the net below them.
    The traceback is logged at DEBUG only. A client that went away before its whole body arrived
    (`ClientDisconnect`) is a 400 logged at INFO, not an error of ours.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            log.info("%s %s: the client went away before sending its whole body", scope.get("method"), _where(scope))
            if not tracked.started:
                await _json_error(send, 400, "BAD_REQUEST", "The request body was not received completely.")
        except Exception as exc:  # noqa: BLE001  (the last line: whatever escaped is answered and logged once)
            error_id = uuid.uuid4().hex[:12]
            first_line = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            log.error("internal error %s on %s %s: %s: %s", error_id, scope.get("method"), _where(scope),
                      type(exc).__name__, first_line)
            log.debug("internal error %s", error_id, exc_info=True)
            if not tracked.started:
                await _json_error(send, 500, "INTERNAL_SERVER_ERROR",
                                  f"Internal error {error_id}; the server log has the details.", errorId=error_id)


def _where(scope: Scope) -> str:
    """The request's path, printable and bounded (it is the client's text)."""
    return ascii(scope.get("path", ""))[1:-1][:200]


#: Headers every response gets.
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: What the API's own answers (JSON, downloads) may load or frame: nothing. The web pages
#: (`crm_graph.web.pages`) send a policy of their own, which this one does not replace.
_DENY_ALL_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds `_COMMON_HEADERS` and, unless the response has its own, the deny-all CSP to every HTTP
    response.

    Responses without a Cache-Control of their own are marked ``Cache-Control: no-store``: API
    answers carry customer data that no shared cache should keep.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [*_COMMON_HEADERS, _DENY_ALL_CSP]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.headers if name not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
