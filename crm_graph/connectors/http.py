"""An HTTP client for platform APIs that retries what is worth retrying, with backoff.

429 (honouring ``Retry-After``), 5xx, timeouts and dropped connections are retried with exponential
backoff and jitter, up to `max_retries` times; other 4xx are the caller's problem and raise at once.
Credentials never appear in errors or logs: URLs are logged without their query string.

Every request goes through `crm_graph.connectors.egress.EgressTransport`: its destination is checked
against the connector address policy at connection time. Redirects are not followed (a platform
that moved is reconfigured by its admin), and proxy and ``.netrc`` settings from the environment
are ignored, so that the checked address is the one connected to.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import httpx

from crm_graph.connectors.egress import EgressPolicy, EgressTransport, current_policy

log = logging.getLogger("crm_graph.connectors.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 524})


class PlatformError(Exception):
    """The platform refused a request or kept failing; the message is safe to show (no secrets).

    `status` is the last HTTP status (None for timeouts and dropped connections), which background
    jobs use to tell a platform that is down (retry later) from one that refuses (fail now).
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryingClient:
    """A thin wrapper of `httpx.Client` with retries; `sleep` is injectable for tests.

    `egress` is the address policy (default: the current one, see `egress.current_policy`).
    """

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None, auth=None, timeout: float = 30.0,
                 max_retries: int = 6, backoff: float = 0.5, max_backoff: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, verify: bool = True,
                 egress: EgressPolicy | None = None) -> None:
        from crm_graph.observability.tracing import traced

        transport = traced(EgressTransport(egress or current_policy(), verify=verify))
        self.client = httpx.Client(base_url=base_url, headers=headers, auth=auth, timeout=timeout,
                                   transport=transport, follow_redirects=False, trust_env=False)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.retries = 0

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """Send the request, retrying transient failures; raise `PlatformError` when it cannot succeed."""
        attempt = 0
        while True:
            try:
                response = self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem, wait, status = f"{type(exc).__name__}", None, None
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        raise PlatformError(
                            f"{method} {url} answered {response.status_code}: {_short(response.text)}",
                            response.status_code)
                    return response
                problem, status = f"HTTP {response.status_code}", response.status_code
                wait = _retry_after(response)
            if attempt >= self.max_retries:
                raise PlatformError(f"{method} {url} failed {attempt + 1} times; last: {problem}", status)
            delay = wait if wait is not None else min(self.max_backoff, self.backoff * 2 ** attempt)
            delay = delay + random.uniform(0, delay / 4) if wait is None else delay
            log.warning("%s %s: %s; retrying in %.2fs", method, url, problem, delay)
            self.retries += 1
            attempt += 1
            self.sleep(delay)

    def get(self, url: str, **kwargs) -> httpx.Response:
        """GET with retries."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        """POST with retries."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
