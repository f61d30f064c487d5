"""Which failures are worth another try: transient ones (a platform's 429/5xx, the network, a lost
database connection), never bad data or a bug, which would fail the same way again."""

from __future__ import annotations

from collections.abc import Callable

from dramatiq.errors import Retry
from dramatiq.middleware import Shutdown

from crm_graph.errors import UserError

#: How many times a message may find its job held by a live worker and come back to check.
MAX_BUSY_CHECKS = 10_000

_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, may succeed when tried again later."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UserError):
            return False
        if _is_transient_one(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_transient_one(exc: BaseException) -> bool:
    if getattr(exc, "transient", False) is True or isinstance(exc, (Shutdown, ConnectionError, TimeoutError)):
        return True
    status = _http_status(exc)
    if status is not None:
        return status in _RETRYABLE_STATUS
    from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

    if isinstance(exc, (OperationalError, DisconnectionError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover
        httpx = None
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return True
    import redis.exceptions

    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError))


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) if response is not None else None
    for name in ("status_code", "status"):
        if status is None:
            status = getattr(exc, name, None)
    return status if isinstance(status, int) else None


def retry_when(max_retries: int) -> Callable[[int, BaseException], bool]:
    """The `retry_when` predicate of the Retries middleware for at most `max_retries` retries."""

    def should_retry(retries: int, exc: BaseException) -> bool:
        if isinstance(exc, Retry):
            return retries < MAX_BUSY_CHECKS
        return retries < max_retries and is_transient(exc)

    return should_retry
