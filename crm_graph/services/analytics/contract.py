"""The metric contract: how an analytics figure is declared once, for every caller.

A `Metric` names a figure, the arguments it takes (besides the session and the store), how it is
computed live, and optionally its `StoredForm`: what the precompute job writes for it (`DailyRows`:
rows per local day; `PresetGrids`: one value per preset range ending on the job's last day), how a
stored value is read while it is fresh, and how the newest stored day is brought forward to a later
day (today). The runner (`runner.py`) answers every metric the same way: stored rows when fresh,
else brought forward, else live, with the answer's `Freshness`. Metrics are registered through the
`register_metrics` plugin hook (the built-in ones by `crm_graph.default_hooks`), and the precompute
job writes the storage of every registered metric that has one (docs/analytics.md).

Every callable takes the session and the store first, then the metric's arguments by keyword:
``live(session, store, days=..., by_gender=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlmodel import Session

from crm_graph.models import Store

T = TypeVar("T")


@dataclass(frozen=True)
class StoredValue(Generic[T]):
    """A value read from stored rows, and when those rows were computed."""

    value: T
    computed_at: datetime


class PrecomputeDays(Protocol):
    """What the precompute job gives a `DailyRows` form while it writes a chunk of consecutive days."""

    #: The job's session (its transaction is the one the rows are written in).
    session: Session
    store: Store
    #: The chunk's local days, ascending; `rows` is called for each of them in this order.
    days: list[date]
    #: Written into the rows' `computed_at` (one instant for the whole job).
    computed_at: datetime
    #: The fingerprint of the store settings the rows are computed under (`daily.settings_key`).
    settings_key: str
    #: The per-customer running state (`running.RunningState`, or the live statements for one day),
    #: advanced to the day `rows` is called for.
    running: Any

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per chunk for `key` (set-based figures of every day of the chunk at once)."""
        ...


@dataclass(frozen=True)
class DailyRows:
    """Stored form of figures kept per local day: the precompute job writes every day it computes.

    `tables` are mapped classes (SQLModel tables) with `store_id` and `day` columns: the job
    replaces a day's rows of each of them in one transaction, and drops the rows that a change has
    made stale. `rows(chunk, day)` yields ``(table, values)`` for one day.
    """

    name: str
    tables: tuple[type, ...]
    rows: Callable[[PrecomputeDays, date], Iterable[tuple[type, dict[str, Any]]]]


@dataclass(frozen=True)
class PresetGrids:
    """Stored form of figures kept per preset range: written for the ranges ending on the job's last day.

    `tables` have `store_id` and `day` (the last day of the range) columns; `write(session, store,
    day)` replaces the day's rows and returns how many it wrote. Rows of other days are dropped when
    a change makes them stale.
    """

    name: str
    tables: tuple[type, ...]
    write: Callable[[Session, Store, date], int]


#: What the precompute job writes for a metric.
Storage = DailyRows | PresetGrids


@dataclass(frozen=True)
class StoredForm(Generic[T]):
    """How a metric uses stored rows.

    - `storage`: what the job writes (several metrics may read one storage, e.g. the customer counts
      and the activity buckets share the `daily_customer_count` rows).
    - `read(session, store, **arguments)`: the value from fresh stored rows, or None when they do not
      cover the arguments (not precomputed, stale, other settings).
    - `forward(session, store, **arguments)`: the newest fresh stored day plus what changed since
      (the days just after it, today above all), or None when that does not apply; None when the
      metric has no such step.
    """

    storage: Storage
    read: Callable[..., StoredValue[T] | None]
    forward: Callable[..., T | None] | None = None


@dataclass(frozen=True)
class Metric(Generic[T]):
    """One analytics figure, declared once (module docstring).

    - `name`: how callers ask for it (``runner.answer(session, store, "rfm_grid", ...)``).
    - `arguments`: the keyword arguments it takes; `optional` those of them that may be left out.
    - `live(session, store, **arguments)`: the computation from the raw data (the reference).
    - `stored`: its stored form, if any.
    - `cached`: whether the API's result cache may reuse an answer for a few seconds.
    - `depends_on(store)`: what else of the store the value depends on (its analytics settings),
      made part of the cache key.
    """

    name: str
    arguments: tuple[str, ...]
    live: Callable[..., T]
    stored: StoredForm[T] | None = None
    optional: tuple[str, ...] = ()
    cached: bool = False
    depends_on: Callable[[Store], Hashable] | None = None
    description: str = field(default="", compare=False)

    def check_arguments(self, arguments: dict[str, Any]) -> None:
        """Raise TypeError unless `arguments` are this metric's (every required one, no other)."""
        unknown = set(arguments) - set(self.arguments)
        missing = set(self.arguments) - set(self.optional) - set(arguments)
        if unknown or missing:
            raise TypeError(f"metric {self.name!r} takes {', '.join(self.arguments) or 'no arguments'}"
                            f" (unknown: {sorted(unknown)}, missing: {sorted(missing)})")
