"""Filling the stored forms of the registered metrics ("precompute the daily aggregates").

What is stored is declared by the metrics themselves (`contract.StoredForm`, registered through the
`register_metrics` hook): the job writes the storage of every registered metric that has one, so no
stored metric can be left out. Two kinds:

- `DailyRows`: for each local day D of a store, as of the end of D (built in: consent bucket counts
  per channel and channel × gender, customers / identified / spenders / activity buckets, spender
  thresholds and segment sizes, customers per tag). Precomputing a day replaces its rows
  (idempotent). `precompute_range` writes the days a chunk at a time: a form's `rows(chunk, day)`
  is called for each day in order, and can compute set-based figures of the whole chunk once
  (`chunk.shared`: the consent and customer counts of all the days come from one statement each).
  The activity buckets, spender thresholds and tag counts cannot be summed over days (a percentile
  needs every customer's figure): one day alone takes the live statements, each over the whole
  history; a range of days keeps a per-customer running state (`running.RunningState`, as
  `chunk.running`) that each day advances with its own changes. Either way the values are exactly
  what the live computation returns for the same data (tests assert it).
- `PresetGrids`: the values of preset ranges ending on the job's last day (built in: the RFM grids).

`refresh_stored` is what the PRECOMPUTE job runs: it also recomputes every stored day that a change
has made stale since (the `AnalyticsInvalidation` entries the database triggers write), writes the
preset grids of its last day, and clears the entries it has dealt with (docs/analytics.md).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from crm_graph.db import begin_writing
from crm_graph.models import AnalyticsInvalidation, Store
from crm_graph.models.types import utcnow
from crm_graph.services.analytics.contract import DailyRows, PresetGrids, Storage
from crm_graph.services.analytics.customers import ActivityBuckets, activity_at
from crm_graph.services.analytics.daily import settings_key
from crm_graph.services.analytics.running import RunningState
from crm_graph.services.analytics.runner import registered_metrics
from crm_graph.services.analytics.spenders import SpenderSegments, spender_segments_at
from crm_graph.services.analytics.tags import TagCount, tag_counts_at
from crm_graph.services.dates import store_today

T = TypeVar("T")

#: Days per set-based statement (bounds the size of the bucket list sent to the database).
CHUNK_DAYS = 366

#: Longest span one call may precompute.
MAX_DAYS = 3700



def stored_forms() -> list[Storage]:
    """The storage of every registered metric that has a stored form, each once (metrics may share one)."""
    forms: list[Storage] = []
    for metric in registered_metrics().values():
        if metric.stored is not None and all(form is not metric.stored.storage for form in forms):
            forms.append(metric.stored.storage)
    return forms


def _daily_forms() -> list[DailyRows]:
    return [form for form in stored_forms() if isinstance(form, DailyRows)]


def _grid_forms() -> list[PresetGrids]:
    return [form for form in stored_forms() if isinstance(form, PresetGrids)]


@dataclass
class PrecomputeSummary:
    """What a precompute did: `counts` of days and rows written; `errors` stays empty (no per-record input)."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None


def precompute_day(session: Session, store: Store, day: date) -> PrecomputeSummary:
    """Compute and store every stored figure of local `day`: `refresh_stored` of that one day."""
    return refresh_stored(session, store, day, day)


@dataclass(frozen=True)
class Claim:
    """The invalidation entries a refresh took: their ids and the earliest day they make stale."""

    ids: list[int]
    stale_from: date | None


def claim_invalidations(session: Session, store: Store, claimant: int) -> Claim:
    """Mark every pending invalidation entry of the store as taken by `claimant` and return them.

    Runs in the caller's transaction, holding SQLite's write lock (so no write is half-way); entries
    that other refreshes claimed and never cleared (a worker died) are taken over. From then on, the
    triggers ignore these entries and record later changes in new ones (on SQLite they skip only
    unclaimed entries; on PostgreSQL only entries of their own transaction), which stay pending
    after this refresh deletes the ones it claimed.
    """
    begin_writing(session)
    session.execute(update(AnalyticsInvalidation).where(AnalyticsInvalidation.store_id == store.id)
                    .values(claimed_by=claimant).execution_options(synchronize_session=False))
    rows = session.exec(select(AnalyticsInvalidation.id, AnalyticsInvalidation.from_day).where(
        AnalyticsInvalidation.store_id == store.id, AnalyticsInvalidation.claimed_by == claimant)).all()
    return Claim(ids=[row[0] for row in rows], stale_from=min((row[1] for row in rows), default=None))


def grid_days(store: Store, last_day: date) -> list[date]:
    """The days whose preset grids a refresh up to `last_day` writes: `last_day`, and the store's today
    when `last_day` is yesterday (the daily run).

    A preset asked today (`rfmGrid(preset: LAST_365_DAYS)`) is the range ending today, so only a grid
    of today can answer it. It is computed from every change committed before the refresh claimed the
    invalidations, and it is exact until the next change: that change is dated today and makes it
    stale (`daily.fresh`), and answers are live until the next daily run."""
    today = store_today(store)
    return [last_day, today] if last_day == today - timedelta(days=1) else [last_day]


def stored_span(session: Session, store: Store) -> tuple[date, date] | None:
    """The oldest and newest finished day the store has stored figures of (the tables of every stored
    form), or None. The preset grids of today (`grid_days`) are not counted: today is not over, so no
    job recomputes it; a change today makes them stale until the next daily run rewrites them."""
    today = store_today(store)
    spans = [
        session.exec(select(func.min(table.day), func.max(table.day))
                     .where(table.store_id == store.id, table.day < today)).one()
        for form in stored_forms() for table in form.tables
    ]
    days = [day for span in spans for day in span if day is not None]
    return (min(days), max(days)) if days else None


def refresh_stored(session: Session, store: Store, first_day: date, last_day: date, *, claimant: int = 0,
                   progress: Callable[[int, int | None], None] | None = None, chunk_days: int | None = None,
                   after_chunk: Callable[[], None] | None = None) -> PrecomputeSummary:
    """Precompute `first_day`..`last_day` and every stored day made stale since it was computed.

    1. Claims the store's pending invalidation entries (`claim_invalidations`, as `claimant`).
    2. Widens the range so that it covers every stored day on or after the earliest claimed day (to
       the newest stored day), and computes it with `precompute_range` (`chunk_days`, `after_chunk`
       and `progress` as there: a long range commits chunk by chunk, its days staying unused until
       step 4 commits).
    3. Writes the `PresetGrids` forms of the last day, and of today when the last day is yesterday
       (`grid_days`: the RFM grids of the presets), and drops the stale stored rows the range did not
       rewrite (grids of other days; days beyond `MAX_DAYS`).
    4. Deletes exactly the claimed entries, in the transaction of step 3 (the caller commits); if
       another refresh has taken some of them over meanwhile, records its own days as stale instead
       of trusting them.

    Changes committed after step 1 leave entries of their own, so the days they affect stay unused
    until the next refresh, even when this one read part of their data.
    """
    claim = claim_invalidations(session, store, claimant)
    stored = stored_span(session, store)
    stale = claim.stale_from
    if stale is not None and stored is not None and stale <= stored[1]:
        first_day = min(first_day, max(stale, stored[0]))
        last_day = max(last_day, stored[1])
        first_day = max(first_day, last_day - timedelta(days=MAX_DAYS - 1))
    summary = precompute_range(session, store, first_day, last_day, progress, chunk_days=chunk_days,
                               after_chunk=after_chunk)
    begin_writing(session)
    written = grid_days(store, last_day)
    for form in _grid_forms():
        summary.counts[f"{form.name}_rows"] = sum(form.write(session, store, day) for day in written)
    if stale is not None:
        for form in stored_forms():
            for table in form.tables:
                if isinstance(form, PresetGrids):
                    dropped = (table.day >= stale) & table.day.not_in(written)
                else:
                    dropped = (table.day >= stale) & (table.day < first_day)
                session.execute(delete(table).where(table.store_id == store.id, dropped))
    cleared = 0
    for start in range(0, len(claim.ids), 1000):
        cleared += session.execute(delete(AnalyticsInvalidation).where(
            AnalyticsInvalidation.id.in_(claim.ids[start:start + 1000]),
            AnalyticsInvalidation.claimed_by == claimant)).rowcount or 0
    if cleared < len(claim.ids):
        # Another refresh took entries over while this one ran (one whose worker was presumed dead
        # and came back): it may clear changes this one has not read, so these rows are not trusted.
        session.add(AnalyticsInvalidation(store_id=store.id, from_day=first_day))
    summary.counts["invalidations_cleared"] = cleared
    summary.first_day, summary.last_day = first_day, last_day
    session.flush()
    return summary


def precompute_range(session: Session, store: Store, first_day: date, last_day: date,
                     progress: Callable[[int, int | None], None] | None = None, *,
                     chunk_days: int | None = None,
                     after_chunk: Callable[[], None] | None = None) -> PrecomputeSummary:
    """Compute and store the daily aggregates of every local day from `first_day` to `last_day`.

    Works inside the caller's transaction (the caller commits). `progress(done, total)` is called
    after each day. The days are written `chunk_days` at a time (default `CHUNK_DAYS`), and
    `after_chunk()` is called after each chunk's rows are written: a long catch-up commits there. A
    range of several days keeps TEMP tables on the session's connection until it returns, so a
    caller that commits in `after_chunk` must keep the session on one connection.
    """
    if first_day > last_day:
        raise ValueError("first_day must be on or before last_day")
    total = (last_day - first_day).days + 1
    if total > MAX_DAYS:
        raise ValueError(f"precompute at most {MAX_DAYS} days at a time")
    summary = PrecomputeSummary(counts={"days": 0, "rows": 0})

    def tick() -> None:
        summary.counts["days"] += 1
        if progress is not None:
            progress(summary.counts["days"], total)

    begin_writing(session)  # each chunk reads, then writes its days
    per_day: _LiveDays | RunningState
    if total == 1:
        per_day = _LiveDays(session, store)
    else:
        per_day = RunningState(session, store, first_day, last_day)
    chunk = chunk_days or CHUNK_DAYS
    day = first_day
    while day <= last_day:
        chunk_last = min(last_day, day + timedelta(days=chunk - 1))
        days = [day + timedelta(days=i) for i in range((chunk_last - day).days + 1)]
        summary.counts["rows"] += _precompute_days(session, store, days, per_day, tick)
        if after_chunk is not None:
            after_chunk()
            begin_writing(session)
        day = chunk_last + timedelta(days=1)
    per_day.close()
    return summary


class _LiveDays:
    """The per-day figures of one day alone: the live statements (the interface of `RunningState`)."""

    def __init__(self, session: Session, store: Store) -> None:
        self.session, self.store = session, store

    def activity(self, day: date, customers: int) -> ActivityBuckets:
        return activity_at(self.session, self.store, day)

    def spender_segments(self, day: date) -> SpenderSegments:
        return spender_segments_at(self.session, self.store, day)

    def tag_counts(self, day: date) -> list[TagCount]:
        return tag_counts_at(self.session, self.store, day)

    def advance(self, day: date) -> None:
        pass

    def close(self) -> None:
        pass


class _Chunk:
    """One chunk of consecutive days being written: what a `DailyRows` form gets (`contract.PrecomputeDays`)."""

    def __init__(self, session: Session, store: Store, days: list[date], running: _LiveDays | RunningState,
                 computed_at: datetime) -> None:
        self.session, self.store, self.days, self.running = session, store, days, running
        self.computed_at = computed_at
        self.settings_key = settings_key(store.analytics_settings)
        self._shared: dict[Hashable, Any] = {}

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]


def _precompute_days(session: Session, store: Store, days: list[date], per_day: _LiveDays | RunningState,
                     tick: Callable[[], None]) -> int:
    """Write the rows of every `DailyRows` form of the registered metrics for `days`; the number of rows."""
    forms = _daily_forms()
    chunk = _Chunk(session, store, days, per_day, utcnow())
    rows: dict[type, list[dict]] = {table: [] for form in forms for table in form.tables}
    for day in days:
        per_day.advance(day)
        for form in forms:
            for table, values in form.rows(chunk, day):
                rows[table].append(values)
        tick()
    for table in rows:
        session.execute(delete(table).where(table.store_id == store.id, table.day.in_(days)))
    written = 0
    for table, values in rows.items():
        for start in range(0, len(values), 5000):
            session.execute(insert(table), values[start:start + 5000])
        written += len(values)
    session.flush()
    return written
