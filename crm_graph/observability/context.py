"""The ids of the work in progress (request, store), for log records and responses.

Set by the HTTP middleware (request id) and the GraphQL context (store id); read by the logging
filter. Contextvars follow a request into the threads Starlette and anyio run its database calls on.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("crm_graph_request_id", default=None)
store_id: ContextVar[int | None] = ContextVar("crm_graph_store_id", default=None)

#: A request id a client (or a proxy) sends is kept only if it is short and plain: it goes into logs.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id(sent: str | None = None) -> str:
    """`sent` (an ``X-Request-Id`` header) when it is a plain token of at most 64 characters, else a new id."""
    if sent and _ACCEPTED_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex
