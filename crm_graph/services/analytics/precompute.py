"""Filling the daily aggregate tables that the dashboard reads (SPEC §6: "precompute the daily aggregates").

For each local day D of a store, as of the end of D: consent bucket counts per channel (and per
channel × gender), customers / identified / spenders / activity buckets, spender thresholds and
segment sizes, and customers per tag. Precomputing a day replaces its rows (idempotent).

`precompute_range` is set-based where the metric allows it: consent and customer counts of all the
days come from one statement each (deltas per day summed up). The activity buckets, spender
thresholds and tag counts cannot be summed over days (a percentile needs every customer's figure):
one day alone takes the live statements, each over the whole history; a range of days keeps a
per-customer running state (`running.RunningState`) that each day advances with its own changes,
and computes the day's figures from it. Either way the values are exactly what the live computation
returns for the same data (tests assert it).

`refresh_stored` is what the PRECOMPUTE job runs: it also recomputes every stored day that a change
has made stale since (the `AnalyticsInvalidation` entries the database triggers write), writes the
RFM grids of the presets ending on its last day, and clears the entries it has dealt with
(docs/analytics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from crm_graph.db import begin_writing
from crm_graph.models import (
    AnalyticsInvalidation,
    DailyConsentCount,
    DailyConsentGenderCount,
    DailyCustomerCount,
    DailyRfmCell,
    DailySpenderThresholds,
    DailyTagCount,
    Store,
)
from crm_graph.models.enums import Channel, ConsentBucket, Gender
from crm_graph.models.types import utcnow
from crm_graph.services.analytics.consent import consent_counts_at
from crm_graph.services.analytics.customers import ActivityBuckets, activity_at, customer_counts_at
from crm_graph.services.analytics.daily import settings_key
from crm_graph.services.analytics.rfm_grid import precompute_rfm_day
from crm_graph.services.analytics.running import RunningState
from crm_graph.services.analytics.spenders import SpenderSegments, spender_segments_at
from crm_graph.services.analytics.tags import TagCount, tag_counts_at
from crm_graph.services.dates import day_end

#: Days per set-based statement (bounds the size of the bucket list sent to the database).
CHUNK_DAYS = 366

#: Longest span one call may precompute.
MAX_DAYS = 3700

_TABLES = (DailyConsentCount, DailyConsentGenderCount, DailyCustomerCount, DailySpenderThresholds, DailyTagCount)


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


def stored_span(session: Session, store: Store) -> tuple[date, date] | None:
    """The oldest and newest day the store has stored figures of (daily tables or RFM grids), or None."""
    spans = [
        session.exec(select(func.min(table.day), func.max(table.day)).where(table.store_id == store.id)).one()
        for table in (DailyCustomerCount, DailyRfmCell)
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
    3. Writes the RFM grids of the presets ending on the last day (`precompute_rfm_day`), and drops
       the stale stored rows the range did not rewrite (RFM grids of other days; days beyond
       `MAX_DAYS`).
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
    summary.counts["rfm_rows"] = precompute_rfm_day(session, store, last_day)
    if stale is not None:
        for table in (*_TABLES, DailyRfmCell):
            dropped = (table.day >= stale) & (table.day < first_day)
            if table is DailyRfmCell:
                dropped = (table.day >= stale) & (table.day != last_day)
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


def _precompute_days(session: Session, store: Store, days: list[date], per_day: _LiveDays | RunningState,
                     tick: Callable[[], None]) -> int:
    ends = [day_end(day, store.tz) for day in days]
    consent = consent_counts_at(session, store, ends, by_gender=True)
    customers = customer_counts_at(session, store, ends)
    key = settings_key(store.analytics_settings)
    now = utcnow()
    rows: dict[type, list[dict]] = {table: [] for table in _TABLES}
    for day, counts, people in zip(days, consent, customers):
        for channel in Channel:
            for bucket in ConsentBucket:
                per_gender = {g.value: counts[(channel.value, g.value, bucket.value)] for g in Gender}
                rows[DailyConsentCount].append(dict(store_id=store.id, day=day, channel=channel.value,
                                                    bucket=bucket.value, customers=sum(per_gender.values())))
                rows[DailyConsentGenderCount].extend(
                    dict(store_id=store.id, day=day, channel=channel.value, gender=gender, bucket=bucket.value,
                         customers=n)
                    for gender, n in per_gender.items()
                )
        per_day.advance(day)
        activity = per_day.activity(day, people.customers)
        rows[DailyCustomerCount].append(dict(
            store_id=store.id, day=day, customers=people.customers, identified=people.identified,
            spenders=people.spenders, active=activity.active, low_risk=activity.low_risk,
            high_risk=activity.high_risk, settings_key=key, computed_at=now,
        ))
        segments = per_day.spender_segments(day)
        rows[DailySpenderThresholds].append(dict(
            store_id=store.id, day=day, spenders=segments.spenders,
            value_low=segments.value_low or 0, value_high=segments.value_high or 0,
            frequent_threshold=segments.frequent_threshold, small=segments.small, medium=segments.medium,
            big=segments.big, one_time=segments.one_time, repeat=segments.repeat, frequent=segments.frequent,
            settings_key=key,
        ))
        rows[DailyTagCount].extend(
            dict(store_id=store.id, day=day, tag_id=tag.tag_id, customers=tag.customers)
            for tag in per_day.tag_counts(day)
        )
        tick()
    for table in _TABLES:
        session.execute(delete(table).where(table.store_id == store.id, table.day.in_(days)))
    written = 0
    for table, values in rows.items():
        for start in range(0, len(values), 5000):
            session.execute(insert(table), values[start:start + 5000])
        written += len(values)
    session.flush()
    return written
