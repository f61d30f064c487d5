"""The Shopify GraphQL Admin API client: cursor pagination and cost-based throttling.

Every answer carries ``extensions.cost`` with the query's cost and the bucket
(``throttleStatus``: maximumAvailable, currentlyAvailable, restoreRate). The client waits before a
query when the bucket cannot pay for it, and a ``THROTTLED`` error (HTTP 200) or a 429 is retried
after the time the bucket needs to refill. Connections are read with `first`/`after` until
``pageInfo.hasNextPage`` is false; the search string filters on ``updated_at``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from crm_graph.connectors.http import PlatformError, RetryingClient
from crm_graph_shopify.settings import ShopifySettings


def _search_time(moment: datetime, *, ceil: bool = False) -> str:
    if ceil and moment.microsecond:
        moment = moment + timedelta(seconds=1)  # whole seconds only: keep `moment` inside the bound
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _search(start: datetime | None, end: datetime, extra: str) -> list[str]:
    """The search terms of a read of nodes updated in [start, end)."""
    search = [f"updated_at:<'{_search_time(end, ceil=True)}'"]
    if start is not None:
        search.insert(0, f"updated_at:>='{_search_time(start)}'")
    if extra:
        search.append(extra)
    return search


class ShopifyClient:
    """Runs GraphQL queries against one shop."""

    def __init__(self, settings: ShopifySettings, *, sleep=None) -> None:
        self.settings = settings
        self.sleep = sleep or time.sleep
        self.http = RetryingClient(
            settings.shop_url, timeout=settings.timeout, max_retries=settings.max_retries,
            backoff=settings.retry_backoff, sleep=self.sleep,
            headers={"X-Shopify-Access-Token": settings.access_token.get_secret_value(),
                     "Content-Type": "application/json", "User-Agent": "crm-graph-shopify/0.1"})
        self.path = f"/admin/api/{settings.api_version}/graphql.json"
        self.available: float | None = None
        self.restore_rate: float = 50.0
        self.last_cost: float = 0.0
        self.throttled = 0

    def execute(self, query: str, variables: dict) -> dict:
        """The `data` of a query; waits out throttling; raises `PlatformError` on GraphQL errors."""
        for attempt in range(self.settings.max_retries + 1):
            if self.available is not None and self.last_cost > self.available:
                self.sleep((self.last_cost - self.available) / self.restore_rate)
            body = self.http.post(self.path, json={"query": query, "variables": variables}).json()
            self._note_cost(body.get("extensions", {}).get("cost"))
            errors = body.get("errors") or []
            if any((error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors):
                self.throttled += 1
                needed = max(self.last_cost - (self.available or 0), 1.0)
                self.sleep(needed / self.restore_rate)
                continue
            if errors:
                raise PlatformError("Shopify answered: " + "; ".join(str(e.get("message")) for e in errors))
            return body["data"]
        raise PlatformError(f"Shopify kept throttling after {self.settings.max_retries + 1} attempts")

    def _note_cost(self, cost: dict | None) -> None:
        if not cost:
            return
        status = cost.get("throttleStatus") or {}
        self.available = status.get("currentlyAvailable", self.available)
        self.restore_rate = status.get("restoreRate") or self.restore_rate
        self.last_cost = cost.get("requestedQueryCost") or self.last_cost

    def updated_pages(self, connection: str, query: str, start: datetime | None, end: datetime,
                      extra: str = "") -> Iterator[list[dict]]:
        """Nodes of `connection` updated in [start, end), oldest first, a page at a time."""
        search = _search(start, end, extra)
        after = None
        while True:
            data = self.execute(query, {"first": self.settings.page_size, "after": after, "query": " ".join(search)})
            page = data[connection]
            nodes = page.get("nodes") or []
            if nodes:
                yield nodes
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def count(self, connection: str, start: datetime | None, end: datetime, extra: str = "") -> int | None:
        """How many nodes `updated_pages` will yield, when the shop counts them exactly; else None.

        Only for progress: a shop that refuses the count query (an older API version, a missing
        scope) still syncs, without a total."""
        from crm_graph_shopify.queries import COUNTS

        try:
            data = self.execute(COUNTS[connection], {"query": " ".join(_search(start, end, extra))})
        except PlatformError:
            return None
        counted = data.get(f"{connection}Count") or {}
        if counted.get("precision") != "EXACT" or not isinstance(counted.get("count"), int):
            return None
        return counted["count"]

    def is_gone(self, gid: str) -> bool:
        """Whether the shop no longer has the node `gid` (Shopify answers ``node: null`` for it)."""
        from crm_graph_shopify.queries import EXISTS

        return self.execute(EXISTS, {"id": gid}).get("node") is None

    def close(self) -> None:
        """Close the connections."""
        self.http.close()
