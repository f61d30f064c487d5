"""How fresh an analytics answer is: when its figures were computed, and from what.

The runner (`runner.answer`) gives every analytics answer a `Freshness` beside its figures
(`Fresh`), so that a client can show "as of 10:32, precomputed" and tell how old an answer of the
result cache is:

- `computed_at` is when the figures were computed: the stored rows' `computed_at` for figures read
  from stored rows, the fit time for CLV predictions, and otherwise the start of this computation.
- `source` says how: STORED (read from rows the workers wrote), BROUGHT_FORWARD (the newest stored
  day plus what changed since, computed now) or LIVE (computed now from the raw data).
- `answered_at` is when the service ran; a result served again later by the API's result cache
  keeps it (and `computed_at`), so a resolver tells a cached answer by an `answered_at` earlier than
  its request.

Stored figures are used only while fresh (docs/analytics.md), so an old `computed_at` of a STORED
answer means that nothing they depend on has changed since, not that they are out of date.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from crm_graph.models.types import utcnow

T = TypeVar("T")


class FreshnessSource(enum.Enum):
    """Where an answer's figures came from; later members are "less stored" (see `Freshness.combine`)."""

    STORED = "STORED"
    BROUGHT_FORWARD = "BROUGHT_FORWARD"
    LIVE = "LIVE"


_ORDER = list(FreshnessSource)


@dataclass(frozen=True)
class Freshness:
    """When and how an answer's figures were computed (module docstring)."""

    computed_at: datetime
    source: FreshnessSource
    answered_at: datetime

    @property
    def from_stored_rows(self) -> bool:
        """Whether stored rows were read (STORED, or BROUGHT_FORWARD from a stored day)."""
        return self.source is not FreshnessSource.LIVE

    @classmethod
    def live(cls, started: datetime | None = None) -> Freshness:
        """Computed now (`started`: when the computation began, default now)."""
        started = started or utcnow()
        return cls(started, FreshnessSource.LIVE, started)

    @classmethod
    def brought_forward(cls, started: datetime | None = None) -> Freshness:
        """The newest stored day's figures plus what changed since, computed now."""
        started = started or utcnow()
        return cls(started, FreshnessSource.BROUGHT_FORWARD, started)

    @classmethod
    def stored(cls, computed_at: datetime, started: datetime | None = None) -> Freshness:
        """Read from rows (or a model) computed at `computed_at`."""
        return cls(computed_at, FreshnessSource.STORED, started or utcnow())

    @classmethod
    def combine(cls, parts: Iterable[Freshness]) -> Freshness | None:
        """The freshness of an answer made of `parts`: the oldest `computed_at` and `answered_at`, and
        the least stored source (LIVE if any part is live). None without parts."""
        parts = list(parts)
        if not parts:
            return None
        return cls(min(p.computed_at for p in parts), max((p.source for p in parts), key=_ORDER.index),
                   min(p.answered_at for p in parts))


@dataclass(frozen=True)
class Fresh(Generic[T]):
    """Figures and their freshness."""

    value: T
    freshness: Freshness
