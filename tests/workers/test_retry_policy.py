"""Which failures are retried: transient ones only."""

import httpx
import pytest
from dramatiq.errors import Retry
from sqlalchemy.exc import IntegrityError, OperationalError

from crm_graph.connectors.http import PlatformError
from crm_graph.errors import TransientError, UserError
from workers.retry_policy import is_transient, retry_when


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://shop.example/wp-json/wc/v3/orders")
    return httpx.HTTPStatusError("error", request=request, response=httpx.Response(status, request=request))


class PlatformDown(Exception):
    """A connector's own error type, raised from the HTTP error that caused it."""


def _wrapped(cause: BaseException) -> PlatformDown:
    try:
        raise cause
    except BaseException as exc:  # noqa: BLE001
        try:
            raise PlatformDown("could not read orders") from exc
        except PlatformDown as wrapped:
            return wrapped


@pytest.mark.parametrize("exc", [
    _status_error(429), _status_error(503), _status_error(500),
    httpx.ConnectTimeout("timed out"), httpx.ReadError("connection reset"),
    OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
    ConnectionResetError(), TimeoutError(), TransientError("rate limited"), _wrapped(_status_error(502)),
    PlatformError("GET /orders failed 7 times; last: 503", 503),
])
def test_transient_failures_are_retried(exc):
    assert is_transient(exc)
    assert retry_when(5)(0, exc) and retry_when(5)(4, exc) and not retry_when(5)(5, exc)


@pytest.mark.parametrize("exc", [
    _status_error(400), _status_error(401), _status_error(404), UserError("bad column"),
    IntegrityError("INSERT", {}, Exception("duplicate key")), KeyError("total"), ValueError("bad date"),
    _wrapped(_status_error(403)), PlatformError("GET /orders: 401 Unauthorized", 401),
])
def test_bad_data_and_bugs_are_not_retried(exc):
    assert not is_transient(exc)
    assert not retry_when(5)(0, exc)


def test_a_busy_job_is_checked_again_without_using_up_retries():
    assert retry_when(0)(100, Retry("held by another worker", delay=1000))
