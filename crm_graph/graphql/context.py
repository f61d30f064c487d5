"""The per-request context: who is asking, for which store, and how to reach the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Engine
from strawberry.types import Info as StrawberryInfo

from crm_graph.db import session_scope
from crm_graph.graphql.errors import graphql_error
from crm_graph.graphql.fairness import StoreLimits
from crm_graph.graphql.result_cache import ResultCache
from crm_graph.models import Store
from crm_graph.models.enums import Role
from crm_graph.services.analytics import runner
from crm_graph.services.analytics.freshness import Fresh
from crm_graph.settings import Settings, get_settings

T = TypeVar("T")

_ROLE_RANK = {Role.READ: 1, Role.WRITE: 2, Role.ADMIN: 3}


@dataclass
class Context:
    """What every resolver gets as ``info.context``.

    `store` comes from the API key (or the development store), never from an argument, so no
    resolver can be pointed at another store's data. `loaders` holds this request's DataLoaders.
    Every database call of a resolver goes through `run` (DataLoaders and `answer` too),
    so `limits` bounds them all.
    """

    engine: Engine
    store: Store | None = None
    role: Role | None = None
    api_key_id: int | None = None
    #: Why the request has no store: (message, code), set by the view when authentication failed.
    auth_error: tuple[str, str] | None = None
    request: Any = None
    response: Any = None
    loaders: dict[str, Any] = field(default_factory=dict)
    #: This process's recent analytics answers (see `answer`); None keeps nothing.
    results: ResultCache | None = None
    #: This process's per-store bounds and statement timeout (see `fairness`); None bounds nothing.
    limits: StoreLimits | None = None

    def require(self, role: Role = Role.READ) -> Store:
        """The request's store, or an UNAUTHENTICATED / FORBIDDEN error when the caller lacks `role`."""
        if self.store is None or self.role is None:
            message, code = self.auth_error or (
                "An API key is required: send `Authorization: Bearer <key>` (`crm-graph keys create`).",
                "UNAUTHENTICATED",
            )
            raise graphql_error(message, code)
        if _ROLE_RANK[self.role] < _ROLE_RANK[role]:
            raise graphql_error(
                f"This needs a {role.value.lower()} key; this key is {self.role.value.lower()}.", "FORBIDDEN"
            )
        return self.store

    async def run(self, fn: Callable[..., T], *args: Any, role: Role = Role.READ, **kwargs: Any) -> T:
        """Call the service ``fn(session, store, *args, **kwargs)`` in a worker thread.

        The session commits when `fn` returns and rolls back when it raises. Database work never
        blocks the event loop, so slow queries do not stall other requests of the process; and it
        waits for the store's turn (`limits`), so one store's slow requests do not hold every thread.
        """
        store = self.require(role)
        try:
            return await self.run_unscoped(fn, store, *args, **kwargs)
        finally:
            if role is not Role.READ and self.results is not None:
                self.results.forget(store.id)  # what this request changed shows at once

    async def run_unscoped(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn(session, *args, **kwargs)`` in a worker thread, without checking the caller.

        The call counts against the request's store (if any) in `limits`, and its statements get
        the statement timeout.
        """
        limits = self.limits
        timeout = limits.statement_timeout if limits is not None else None

        def call() -> T:
            with session_scope(self.engine, statement_timeout=timeout) as session:
                return fn(session, *args, **kwargs)

        if limits is None:
            return await anyio.to_thread.run_sync(call)
        return await limits.run(self.store.id if self.store is not None else None, call)

    async def answer(self, name: str, *, live: bool = False, **arguments: Any) -> Fresh[Any]:
        """The analytics metric `name` for the request's store: `runner.answer` in a worker thread.

        Reused from this process's recent results (`results`) under the runner's `cache_key` when
        the metric is cached; the answer keeps its `Freshness`, so a reused one tells when it was
        computed.
        """
        store = self.require(Role.READ)
        key = None if self.results is None else runner.cache_key(store, name, live=live, **arguments)
        if key is None:
            return await self.run(runner.answer, name, live=live, **arguments)
        return await self.results.get(store.id, key, lambda: self.run(runner.answer, name, live=live, **arguments))

    def loader(self, key: str, factory: Callable[[], T]) -> T:
        """This request's DataLoader named `key`, created by `factory` on first use."""
        if key not in self.loaders:
            self.loaders[key] = factory()
        return self.loaders[key]


Info = StrawberryInfo[Context, None]


def app_settings(info: Info) -> Settings:
    """The settings of the app serving this request (tests build apps with their own)."""
    request = info.context.request
    app = getattr(request, "app", None) if request is not None else None
    return getattr(getattr(app, "state", None), "settings", None) or get_settings()

