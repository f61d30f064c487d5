"""The one runner that answers every analytics metric (contract.py), for every caller.

GraphQL resolvers (through `Context.answer`, which adds the API's result cache), the service
functions the exports and tests use (`consent.consent_kpis`, `rfm_grid.rfm_grid`...), the workers'
precompute (which writes what `read` later finds) and the benchmarks all go through `answer`:

1. a metric with a stored form, unless `live` is asked: its stored rows when they cover the
   arguments and are fresh (no change they depend on committed since: `daily.fresh`) -> STORED
   with the rows' `computed_at`;
2. else the newest fresh stored day brought forward (the days after it, today above all) ->
   BROUGHT_FORWARD, computed now;
3. else the live computation -> LIVE, computed now.

`cache_key` is the key under which an API process may reuse an answer for a few seconds
(`graphql.result_cache`): the metric, its arguments and the store settings it depends on; None for
metrics that are not cached or arguments that cannot be keys (a customer filter).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Store
from crm_graph.models.types import utcnow
from crm_graph.services.analytics.contract import Metric
from crm_graph.services.analytics.freshness import Fresh, Freshness


def registered_metrics() -> dict[str, Metric]:
    """Every metric the installed plugins register (`register_metrics`), by name."""
    from crm_graph.plugins import metrics

    return metrics()


def metric(name: str) -> Metric:
    """The registered metric `name`."""
    try:
        return registered_metrics()[name]
    except KeyError:
        raise UserError(f"No analytics metric named {name!r} is registered.", code="NOT_FOUND") from None


def answer(session: Session, store: Store, name: str, *, live: bool = False, **arguments: Any) -> Fresh[Any]:
    """The value of metric `name` for `store` and `arguments`, with its freshness (module docstring).

    `live` skips the stored rows (the reference computation, or "compute now" asked by a client).
    """
    found = metric(name)
    found.check_arguments(arguments)
    started = utcnow()
    if found.stored is not None and not live:
        stored = found.stored.read(session, store, **arguments)
        if stored is not None:
            return Fresh(stored.value, Freshness.stored(stored.computed_at, started))
        if found.stored.forward is not None:
            value = found.stored.forward(session, store, **arguments)
            if value is not None:
                return Fresh(value, Freshness.brought_forward(started))
    return Fresh(found.live(session, store, **arguments), Freshness.live(started))


def cache_key(store: Store, name: str, *, live: bool = False, **arguments: Any) -> Hashable | None:
    """The result-cache key of this answer, or None when it must not be reused (module docstring)."""
    found = metric(name)
    if not found.cached:
        return None
    key: tuple = (name, live, tuple(sorted(arguments.items())))
    if found.depends_on is not None:
        key += (found.depends_on(store),)
    try:
        hash(key)
    except TypeError:
        return None
    return key
