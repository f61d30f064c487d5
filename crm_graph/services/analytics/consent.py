"""Consent widgets (docs/metrics.md, widgets A–C): KPI cards, subscriptions over time, subscription × gender.

Rules (docs/metrics.md has them for users):
- A customer's consent on a channel as of an instant T is the event with the latest `occurred_at`
  strictly before T; events at the same instant are ordered by id, the last recorded one wins.
- Buckets follow `CONSENT_BUCKET_OF_STATE`; a customer without an event before T is UNKNOWN.
- The customers counted at T are those created before T and not erased, identified or not
  (spenders + prospects = all customers, and so do the three consent buckets). An event older
  than the customer's `created_at` takes effect from `created_at`.
- "As of the end of day D" means T = the end of local day D (`dates.day_end`).

The live computation is one statement over the whole consent history: each event holds from its
instant (or the customer's creation) until the customer's next event on that channel; such an
interval adds one customer to its bucket at every end it covers. The bucket index of each
interval's start and end (`SqlQuery.bucket_index`) turns that into deltas per point, summed up
in Python over the (at most a thousand) points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.enums import Channel, ConsentBucket, Gender
from crm_graph.models.types import utcnow
from crm_graph.services.analytics import daily, runner
from crm_graph.services.analytics.contract import StoredValue
from crm_graph.services.analytics.sql import SqlQuery, cumulate, states_of
from crm_graph.services.dates import Bucket, Granularity, ResolvedRange, buckets, day_end, kpi_comparison_day

CHANNELS = tuple(Channel)
BUCKETS = tuple(ConsentBucket)
GENDERS = tuple(Gender)

#: Key of one count: (channel, gender or None, bucket).
CountKey = tuple[str, str | None, str]


@dataclass(frozen=True)
class Change:
    """A value compared with an earlier one; `relative` is None when the earlier value is 0."""

    value: int
    previous: int

    @property
    def absolute(self) -> int:
        """value − previous."""
        return self.value - self.previous

    @property
    def relative(self) -> float | None:
        """(value − previous) / previous, or None when previous is 0."""
        return None if self.previous == 0 else (self.value - self.previous) / self.previous


@dataclass(frozen=True)
class ConsentKpi:
    """One KPI card: customers of a channel in a bucket at the end of the range and 30 days before."""

    channel: Channel
    bucket: ConsentBucket
    day: date
    compared_day: date
    change: Change


@dataclass(frozen=True)
class SubscriptionPoint:
    """Customers per bucket of one channel as of the end of one period."""

    channel: Channel
    label: str
    first_day: date
    last_day: date
    subscribed: int
    unsubscribed: int
    unknown: int


@dataclass(frozen=True)
class GenderConsentRow:
    """Customers of one gender per bucket of one channel, at the end of a day."""

    channel: Channel
    gender: Gender
    subscribed: int
    unsubscribed: int
    unknown: int


def consent_counts_at(session: Session, store: Store, ends: list[datetime], *,
                      by_gender: bool = False) -> list[dict[CountKey, int]]:
    """Live: customers per (channel, gender, bucket) as of each instant of `ends` (ascending).

    Gender is None unless `by_gender`. Every key of every channel/bucket (and gender) is present,
    zeros included. One SQL statement.
    """
    if not ends:
        return []
    q = SqlQuery(session, store.id)
    horizon = q.instant("horizon", ends[-1])
    known = ", ".join(f"'{g.value}'" for g in GENDERS)
    gender = f"CASE WHEN c.gender IN ({known}) THEN c.gender ELSE 'UNKNOWN' END" if by_gender else "''"
    subscribed, unsubscribed = states_of(ConsentBucket.SUBSCRIBED), states_of(ConsentBucket.UNSUBSCRIBED)
    gender_group = f", {gender}" if by_gender else ""
    since_index = q.bucket_index("since", ends)
    until_index = q.bucket_index("until", ends)
    created_index = q.bucket_index("c.created_at", ends)
    sql = f"""
    WITH ev AS (
        SELECT customer_id, channel, state, occurred_at,
               LEAD(occurred_at) OVER (PARTITION BY customer_id, channel ORDER BY occurred_at, id) AS next_at
        FROM consent_event
        WHERE store_id = :store_id AND occurred_at < {horizon}
    ),
    iv AS (
        SELECT channel, gender, bucket, since, until FROM (
            SELECT ev.channel AS channel, {gender} AS gender,
                   CASE WHEN ev.state IN ({subscribed}) THEN 'SUBSCRIBED' ELSE 'UNSUBSCRIBED' END AS bucket,
                   CASE WHEN ev.occurred_at > c.created_at THEN ev.occurred_at ELSE c.created_at END AS since,
                   ev.next_at AS until
            FROM ev JOIN customer c ON c.id = ev.customer_id
            WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {horizon}
              AND ev.state IN ({subscribed}, {unsubscribed})
        ) raw
        WHERE until IS NULL OR until > since
    )
    SELECT channel, gender, bucket, {since_index} AS g, COUNT(*) AS n FROM iv
    GROUP BY channel, gender, bucket, g
    UNION ALL
    SELECT channel, gender, bucket, {until_index} AS g, -COUNT(*) AS n FROM iv
    WHERE until IS NOT NULL
    GROUP BY channel, gender, bucket, g
    UNION ALL
    SELECT 'ALL', {gender}, 'ALL', {created_index} AS g, COUNT(*) AS n FROM customer c
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {horizon}
    GROUP BY {created_index}{gender_group}
    """
    deltas: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for channel, gender_value, bucket, g, n in q.execute(sql):
        per_key = deltas[(channel, gender_value, bucket)]
        per_key[int(g)] = per_key.get(int(g), 0) + int(n)
    series = {key: cumulate(per_key, len(ends)) for key, per_key in deltas.items()}
    genders: tuple[str | None, ...] = tuple(g.value for g in GENDERS) if by_gender else (None,)
    result: list[dict[CountKey, int]] = []
    for j in range(len(ends)):
        point: dict[CountKey, int] = {}
        for g_value in genders:
            sql_gender = g_value if by_gender else ""
            total = series.get(("ALL", sql_gender, "ALL"), [0] * len(ends))[j]
            for channel in CHANNELS:
                sub = series.get((channel.value, sql_gender, "SUBSCRIBED"), [0] * len(ends))[j]
                unsub = series.get((channel.value, sql_gender, "UNSUBSCRIBED"), [0] * len(ends))[j]
                point[(channel.value, g_value, ConsentBucket.SUBSCRIBED.value)] = sub
                point[(channel.value, g_value, ConsentBucket.UNSUBSCRIBED.value)] = unsub
                point[(channel.value, g_value, ConsentBucket.UNKNOWN.value)] = total - sub - unsub
        result.append(point)
    return result


def consent_changes(session: Session, store: Store, since: datetime, until: datetime, *,
                    by_gender: bool = False) -> dict[CountKey, int]:
    """Live: how the counts of `consent_counts_at` change from instant `since` to instant `until`.

    Only what happened in between is read: the customers with a consent event in [since, until)
    leave their bucket as of `since` for their bucket as of `until`, and the customers created in
    [since, until) join their bucket as of `until`. It serves the days after the newest precomputed
    one (today, above all) at the cost of a day's events instead of the whole history.
    """
    q = SqlQuery(session, store.id)
    since_at, until_at = q.instant("since", since), q.instant("until", until)
    known = ", ".join(f"'{g.value}'" for g in GENDERS)
    gender = f"CASE WHEN c.gender IN ({known}) THEN c.gender ELSE 'UNKNOWN' END" if by_gender else "''"
    subscribed, unsubscribed = states_of(ConsentBucket.SUBSCRIBED), states_of(ConsentBucket.UNSUBSCRIBED)
    channels = " UNION ALL ".join(f"SELECT '{channel.value}' AS channel" for channel in CHANNELS)

    def state_before(instant: str) -> str:
        return (f"(SELECT e.state FROM consent_event e WHERE e.store_id = :store_id AND e.customer_id = p.customer_id"
                f" AND e.channel = p.channel AND e.occurred_at < {instant} ORDER BY e.occurred_at DESC, e.id DESC"
                f" LIMIT 1)")

    def bucket(state: str) -> str:
        return (f"CASE WHEN {state} IN ({subscribed}) THEN 'SUBSCRIBED' "
                f"WHEN {state} IN ({unsubscribed}) THEN 'UNSUBSCRIBED' ELSE 'UNKNOWN' END")

    sql = f"""
    WITH moved AS (
        SELECT DISTINCT customer_id, channel FROM consent_event
        WHERE store_id = :store_id AND occurred_at >= {since_at} AND occurred_at < {until_at}
    ),
    pairs AS (
        SELECT m.customer_id, m.channel, {gender} AS gender, 0 AS is_new
        FROM moved m JOIN customer c ON c.id = m.customer_id
        WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {since_at}
        UNION ALL
        SELECT c.id, ch.channel, {gender}, 1
        FROM customer c CROSS JOIN ({channels}) ch
        WHERE c.store_id = :store_id AND c.erased_at IS NULL
          AND c.created_at >= {since_at} AND c.created_at < {until_at}
    ),
    states AS (
        SELECT p.channel, p.gender, p.is_new,
               CASE WHEN p.is_new = 1 THEN NULL ELSE {state_before(since_at)} END AS before_state,
               {state_before(until_at)} AS after_state
        FROM pairs p
    )
    SELECT channel, gender, is_new, {bucket("before_state")} AS before_bucket,
           {bucket("after_state")} AS after_bucket, COUNT(*) AS n
    FROM states GROUP BY channel, gender, is_new, before_bucket, after_bucket
    """
    changes: dict[CountKey, int] = defaultdict(int)
    for channel, gender_value, is_new, before, after, n in q.execute(sql):
        key_gender = gender_value if by_gender else None
        if not int(is_new):
            changes[(channel, key_gender, before)] -= int(n)
        changes[(channel, key_gender, after)] += int(n)
    return dict(changes)


def _plus(counts: dict[CountKey, int], changes: dict[CountKey, int]) -> dict[CountKey, int]:
    return {key: count + changes.get(key, 0) for key, count in counts.items()}


def consent_counts_for_days(session: Session, store: Store, days: list[date], *,
                            by_gender: bool = False) -> dict[date, dict[CountKey, int]]:
    """Counts at the end of each local day: the `consent_counts` metric, answered by the runner."""
    return runner.answer(session, store, "consent_counts", days=tuple(sorted(set(days))), by_gender=by_gender).value


def _with_totals(counts: dict[date, dict[CountKey, int]], by_gender: bool) -> dict[date, dict[CountKey, int]]:
    """With `by_gender`, add the totals over the genders (gender None) beside the per-gender keys."""
    if by_gender:
        for per_day in counts.values():
            for channel in CHANNELS:
                for bucket in BUCKETS:
                    per_day[(channel.value, None, bucket.value)] = sum(
                        per_day[(channel.value, gender.value, bucket.value)] for gender in GENDERS)
    return counts


def stored_consent_counts(session: Session, store: Store, *, days: Sequence[date],
                          by_gender: bool = False) -> StoredValue[dict[date, dict[CountKey, int]]] | None:
    """The counts of `days` from the daily tables, or None unless every day is stored and fresh."""
    unique = sorted(set(days))
    stored = daily.consent_counts(session, store, unique, by_gender=by_gender)
    if stored is None:
        return None
    return StoredValue(_with_totals(stored, by_gender), daily.computed_at(session, store, unique) or utcnow())


def forward_consent_counts(session: Session, store: Store, *, days: Sequence[date],
                           by_gender: bool = False) -> dict[date, dict[CountKey, int]] | None:
    """The counts of `days`, those after the newest stored day brought forward from it (`daily.brought_forward`)."""
    stored = daily.brought_forward(
        session, store, sorted(set(days)),
        lambda stored_days: daily.consent_counts(session, store, stored_days, by_gender=by_gender),
        lambda base, since, until: _plus(base, consent_changes(session, store, since, until, by_gender=by_gender)),
    )
    return None if stored is None else _with_totals(stored, by_gender)


def live_consent_counts(session: Session, store: Store, *, days: Sequence[date],
                        by_gender: bool = False) -> dict[date, dict[CountKey, int]]:
    """The counts at the end of each of `days`, computed live (`consent_counts_at`).

    With `by_gender`, the result has both the per-gender keys and the totals (gender None).
    """
    unique = sorted(set(days))
    live = consent_counts_at(session, store, [day_end(day, store.tz) for day in unique], by_gender=by_gender)
    return _with_totals(dict(zip(unique, live)), by_gender)


def kpis_from_counts(counts: dict[date, dict[CountKey, int]], r: ResolvedRange) -> list[ConsentKpi]:
    """The KPI cards of range `r` from counts that include its last day and its comparison day."""
    compared = kpi_comparison_day(r)
    return [
        ConsentKpi(channel=channel, bucket=bucket, day=r.last_day, compared_day=compared,
                   change=Change(counts[r.last_day][(channel.value, None, bucket.value)],
                                 counts[compared][(channel.value, None, bucket.value)]))
        for channel in CHANNELS for bucket in BUCKETS
    ]


def series_from_counts(counts: dict[date, dict[CountKey, int]], periods: list[Bucket],
                       channels: tuple[Channel, ...] = CHANNELS) -> list[SubscriptionPoint]:
    """The subscription points of `periods` from counts that include each period's last day."""
    return [
        SubscriptionPoint(
            channel=channel, label=p.label, first_day=p.first_day, last_day=p.last_day,
            subscribed=counts[p.last_day][(channel.value, None, "SUBSCRIBED")],
            unsubscribed=counts[p.last_day][(channel.value, None, "UNSUBSCRIBED")],
            unknown=counts[p.last_day][(channel.value, None, "UNKNOWN")],
        )
        for channel in channels for p in periods
    ]


def gender_rows_from_counts(counts: dict[CountKey, int],
                            channels: tuple[Channel, ...] = CHANNELS) -> list[GenderConsentRow]:
    """The gender × bucket rows of one day from its by-gender counts."""
    return [
        GenderConsentRow(
            channel=channel, gender=gender,
            subscribed=counts[(channel.value, gender.value, "SUBSCRIBED")],
            unsubscribed=counts[(channel.value, gender.value, "UNSUBSCRIBED")],
            unknown=counts[(channel.value, gender.value, "UNKNOWN")],
        )
        for channel in channels for gender in GENDERS
    ]


def consent_kpis(session: Session, store: Store, r: ResolvedRange) -> list[ConsentKpi]:
    """KPI cards (docs/metrics.md, widget A): per channel and bucket, the count at the end of the range and 30 days before."""
    return kpis_from_counts(consent_counts_for_days(session, store, [kpi_comparison_day(r), r.last_day]), r)


def subscriptions_over_time(session: Session, store: Store, r: ResolvedRange,
                            granularity: Granularity = Granularity.DAY,
                            channels: tuple[Channel, ...] = CHANNELS) -> list[SubscriptionPoint]:
    """Subscriptions over time (docs/metrics.md, widget B): per channel and period, customers per bucket at the period's end."""
    periods = buckets(r, granularity)
    counts = consent_counts_for_days(session, store, [p.last_day for p in periods])
    return series_from_counts(counts, periods, channels)


def consent_by_gender(session: Session, store: Store, r: ResolvedRange,
                      channels: tuple[Channel, ...] = CHANNELS) -> list[GenderConsentRow]:
    """Subscription × gender (docs/metrics.md, widget C): at the end of the range's last day, per channel and gender.

    Gender is the customer's current gender (its history is not kept).
    """
    counts = consent_counts_for_days(session, store, [r.last_day], by_gender=True)
    return gender_rows_from_counts(counts[r.last_day], channels)
