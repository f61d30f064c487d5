"""Recent results of the dashboard's computations, kept for a few seconds in one API process.

A dashboard is read by many people and refreshed often, while its figures change at the pace of
orders, consent events and new customers. Each API process keeps the widget figures it computed for
`seconds` (`CRM_GRAPH_DASHBOARD_CACHE_SECONDS`), so a burst of identical requests costs one
computation; requests that arrive while it runs wait for it instead of starting their own.
Results are kept per store (`scope`), so one store's figures never answer another's request, and a
change made through this process forgets its store's results at once (`forget`); changes made
elsewhere (workers, other API processes) show within `seconds`. Failed computations are not kept.

A result is reused until `seconds` after its computation was started, never later: it reads the
data after that instant, so no answer served is older than `seconds`; and the results carry their
`Freshness` (services.analytics.freshness), whose `computedAt` and `answered_at` they keep when
served again, so the client sees when they were computed, not when they were served.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ResultCache:
    """At most `maxsize` results, each reused for `seconds` after it was started (0 keeps nothing)."""

    def __init__(self, seconds: float, maxsize: int = 1024) -> None:
        self.seconds = seconds
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[float, asyncio.Future[Any]]] = OrderedDict()

    async def get(self, scope: int, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The result of `compute()` for `key` of `scope`: a recent one, the one being computed, or a new one."""
        from crm_graph.observability.metrics import record_cache

        if self.seconds <= 0:
            record_cache(False)
            return await compute()
        key = (scope, key)
        now = time.monotonic()
        entry = self._entries.get(key)
        record_cache(entry is not None and entry[0] > now)
        if entry is None or entry[0] <= now:
            future = asyncio.ensure_future(compute())
            future.add_done_callback(lambda done: self._forget_failure(key, done))
            entry = (now + self.seconds, future)
            self._entries[key] = entry
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        # shielded: a request that goes away must not cancel the computation others wait for
        return await asyncio.shield(entry[1])

    def forget(self, scope: int) -> None:
        """Drop every result of `scope` (its data has just changed)."""
        for key in [key for key in self._entries if key[0] == scope]:
            del self._entries[key]

    def _forget_failure(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            current = self._entries.get(key)
            if current is not None and current[1] is done:
                del self._entries[key]
