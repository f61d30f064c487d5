"""Fairness between stores: how much of an API process one store's requests may hold at once.

Resolvers run their database work on worker threads (`Context.run`), each thread holding one pooled
database connection while it runs. Without a bound, one store's burst of heavy requests takes every
thread and every connection of the process, and the next request of any other store waits until
they finish (an attack made a `{ store { slug } }` wait 53.8 s this way). So, per API process:

- each store runs at most `store_concurrency` database calls at once; its other calls wait in the
  store's own queue, in arrival order, and never take a thread another store could use;
- all stores together run at most `API_THREADS` calls at once, fewer than the connections of the
  database pool (`db.POOL_CONNECTIONS`): a call that got a thread never waits for a connection, and
  the connections left over serve authentication, `/health` and embedded jobs;
- a call that has not started within `store_queue_seconds` fails with a retryable
  TOO_MANY_REQUESTS error (``extensions.retryAfter``, in seconds) instead of hanging.

With the defaults (4 per store, 24 in all) five stores can be saturated at once and a sixth store
still finds a free thread at once: ``5 × 4 = 20 < 24``. These threads are limited on their own,
apart from anyio's default thread limiter (which authentication uses), so even more noisy stores
cannot delay the key look-up of a request.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from graphql import GraphQLError

from crm_graph.db import POOL_CONNECTIONS
from crm_graph.graphql.errors import graphql_error

T = TypeVar("T")

log = logging.getLogger("crm_graph.graphql")

#: Database calls of requests one API process runs at once, all stores together (see the module docstring).
API_THREADS = POOL_CONNECTIONS - 6


class StoreLimits:
    """The per-store and per-process bounds of one API process's database calls.

    `statement_timeout` (seconds, None for none) is not enforced here; `Context` gives it to the
    sessions of the calls.
    """

    def __init__(self, *, store_concurrency: int, queue_seconds: float, statement_timeout: float | None,
                 threads: int = API_THREADS) -> None:
        self.store_concurrency = store_concurrency
        self.queue_seconds = queue_seconds
        self.statement_timeout = statement_timeout
        self.threads = threads
        # anyio limiters belong to an event loop: created on first use, inside it
        self._stores: dict[int | None, anyio.CapacityLimiter] = {}
        self._all: anyio.CapacityLimiter | None = None
        self._unbounded: anyio.CapacityLimiter | None = None

    @classmethod
    def from_settings(cls, settings) -> StoreLimits:
        """The limits `settings` configure (`CRM_GRAPH_STORE_CONCURRENCY`, ...)."""
        return cls(store_concurrency=settings.store_concurrency, queue_seconds=settings.store_queue_seconds,
                   statement_timeout=settings.statement_timeout_seconds or None)

    def store_limiter(self, store_id: int | None) -> anyio.CapacityLimiter:
        """The limiter of `store_id` (None: requests without a store), created on first use.

        One per store that has made a request to this process; a store is a few hundred bytes.
        """
        limiter = self._stores.get(store_id)
        if limiter is None:
            limiter = self._stores[store_id] = anyio.CapacityLimiter(self.store_concurrency)
        return limiter

    async def run(self, store_id: int | None, fn: Callable[[], T]) -> T:
        """``fn()`` on a worker thread once `store_id` has a free slot and the process a free thread.

        Raises a TOO_MANY_REQUESTS `GraphQLError` when both were not free within `queue_seconds`.
        """
        if self._all is None:
            self._all = anyio.CapacityLimiter(self.threads)
            self._unbounded = anyio.CapacityLimiter(math.inf)
        borrower = object()
        held: list[anyio.CapacityLimiter] = []
        try:
            with anyio.move_on_after(self.queue_seconds) as waiting:
                for limiter in (self.store_limiter(store_id), self._all):
                    await limiter.acquire_on_behalf_of(borrower)
                    held.append(limiter)
            if waiting.cancelled_caught:
                raise self._busy(store_id, store_wide=not held)
            # the limits are held above; anyio's own default limiter must not add a third queue
            return await anyio.to_thread.run_sync(fn, limiter=self._unbounded)
        finally:
            for limiter in held:
                limiter.release_on_behalf_of(borrower)

    def _busy(self, store_id: int | None, *, store_wide: bool) -> GraphQLError:
        retry_after = max(1, math.ceil(self.queue_seconds))
        if store_wide:
            log.warning("store %s: a request waited %.1f s behind the store's %d running database calls; "
                        "refused with TOO_MANY_REQUESTS", store_id, self.queue_seconds, self.store_concurrency)
            message = (f"This store already has {self.store_concurrency} requests running on this server; "
                       f"retry in {retry_after} s.")
        else:
            log.warning("store %s: a request waited %.1f s for one of the process's %d database threads; "
                        "refused with TOO_MANY_REQUESTS", store_id, self.queue_seconds, self.threads)
            message = f"The server is busy; retry in {retry_after} s."
        return graphql_error(message, "TOO_MANY_REQUESTS", retryAfter=retry_after)
