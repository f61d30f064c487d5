"""Customer widgets (docs/metrics.md, widgets D–F): identified vs unidentified, spenders vs prospects, activity.

Rules (docs/metrics.md):
- The customers as of an instant T are those created before T and not erased.
- Identified = has an email, a phone or a store account. The history of these fields is not kept, so
  a customer counts with its current identification from its `created_at` on.
- Spender as of T = created before T with a counted order placed before T, read from the customer's
  `first_order_at` (the first counted order, kept by `customer_stats`); prospect = the others.
- Activity as of the end of day D, with A = active_days and L = low_risk_days of the store settings:
  ACTIVE when the last activity is 0..A local days before D, LOW_RISK A+1..L days, HIGH_RISK older or
  never. Activity = an activity event, an order placed (any status), or the customer's
  `last_activity_at`, whichever is latest before T.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.types import utcnow
from crm_graph.services.analytics import daily, runner
from crm_graph.services.analytics.contract import StoredValue
from crm_graph.services.analytics.sql import IDENTIFIED_SQL, SqlQuery, cumulate
from crm_graph.services.dates import Bucket, Granularity, ResolvedRange, buckets, day_end, day_start


@dataclass(frozen=True)
class CustomerCounts:
    """Customers, identified customers and spenders at one instant."""

    customers: int
    identified: int
    spenders: int


@dataclass(frozen=True)
class IdentifiedPoint:
    """Identified and unidentified customers as of the end of one period."""

    label: str
    first_day: date
    last_day: date
    identified: int
    unidentified: int

    @property
    def customers(self) -> int:
        """All customers: identified + unidentified."""
        return self.identified + self.unidentified


@dataclass(frozen=True)
class IdentifiedSeries:
    """The identified/unidentified series and all customers at the end of the range."""

    points: list[IdentifiedPoint]
    customers: int
    identified: int


@dataclass(frozen=True)
class SpendersProspects:
    """Spenders and prospects at the end of a day; they add up to all customers."""

    day: date
    spenders: int
    prospects: int

    @property
    def customers(self) -> int:
        """spenders + prospects."""
        return self.spenders + self.prospects


@dataclass(frozen=True)
class ActivityBuckets:
    """Customers by recency of their last activity at the end of a day."""

    day: date
    active: int
    low_risk: int
    high_risk: int
    active_days: int
    low_risk_days: int

    @property
    def customers(self) -> int:
        """active + low_risk + high_risk = all customers."""
        return self.active + self.low_risk + self.high_risk


def customer_counts_at(session: Session, store: Store, ends: list[datetime]) -> list[CustomerCounts]:
    """Live: customers, identified and spenders as of each instant of `ends` (ascending); one statement."""
    if not ends:
        return []
    q = SqlQuery(session, store.id)
    horizon = q.instant("horizon", ends[-1])
    created = q.bucket_index("c.created_at", ends)
    spender_since = q.bucket_index(
        "CASE WHEN c.first_order_at > c.created_at THEN c.first_order_at ELSE c.created_at END", ends
    )
    sql = f"""
    SELECT 'C' AS kind, CASE WHEN {IDENTIFIED_SQL} THEN 1 ELSE 0 END AS identified, {created} AS g, COUNT(*) AS n
    FROM customer c
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {horizon}
    GROUP BY CASE WHEN {IDENTIFIED_SQL} THEN 1 ELSE 0 END, {created}
    UNION ALL
    SELECT 'S', 0, {spender_since} AS g, COUNT(*) AS n
    FROM customer c
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {horizon}
      AND c.first_order_at < {horizon}
    GROUP BY {spender_since}
    """
    deltas: dict[str, dict[int, int]] = defaultdict(dict)
    for kind, identified, g, n in q.execute(sql):
        key = "spenders" if kind == "S" else ("identified" if identified else "unidentified")
        deltas[key][int(g)] = deltas[key].get(int(g), 0) + int(n)
    identified = cumulate(deltas["identified"], len(ends))
    unidentified = cumulate(deltas["unidentified"], len(ends))
    spenders = cumulate(deltas["spenders"], len(ends))
    return [CustomerCounts(customers=i + u, identified=i, spenders=s)
            for i, u, s in zip(identified, unidentified, spenders)]


def activity_at(session: Session, store: Store, day: date) -> ActivityBuckets:
    """Live: activity buckets at the end of local `day` under the store's current settings; one statement."""
    settings = store.analytics_settings
    tz = store.tz
    q = SqlQuery(session, store.id)
    end = q.instant("end", day_end(day, tz))
    active_from = q.instant("active_from", day_start(day - timedelta(days=settings.active_days), tz))
    low_from = q.instant("low_from", day_start(day - timedelta(days=settings.low_risk_days), tz))
    sql = f"""
    WITH recent AS (
        SELECT customer_id, occurred_at AS at FROM activity_event
        WHERE store_id = :store_id AND occurred_at >= {low_from} AND occurred_at < {end}
        UNION ALL
        SELECT customer_id, placed_at FROM orders
        WHERE store_id = :store_id AND customer_id IS NOT NULL AND placed_at >= {low_from} AND placed_at < {end}
        UNION ALL
        SELECT id, last_activity_at FROM customer
        WHERE store_id = :store_id AND last_activity_at >= {low_from} AND last_activity_at < {end}
    ),
    latest AS (SELECT customer_id, MAX(at) AS at FROM recent GROUP BY customer_id)
    SELECT
        (SELECT COUNT(*) FROM customer c
         WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {end}) AS customers,
        COALESCE(SUM(CASE WHEN latest.at >= {active_from} THEN 1 ELSE 0 END), 0) AS active,
        COUNT(latest.customer_id) AS recent
    FROM latest JOIN customer c ON c.id = latest.customer_id
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {end}
    """
    customers, active, recent = q.execute(sql).one()
    return ActivityBuckets(day=day, active=int(active), low_risk=int(recent) - int(active),
                           high_risk=int(customers) - int(recent), active_days=settings.active_days,
                           low_risk_days=settings.low_risk_days)


def customer_changes(session: Session, store: Store, since: datetime, until: datetime) -> CustomerCounts:
    """Live: how `customer_counts_at` changes from instant `since` to instant `until`, reading only the
    customers created in between and those whose first counted order falls in between."""
    q = SqlQuery(session, store.id)
    since_at, until_at = q.instant("since", since), q.instant("until", until)
    sql = f"""
    SELECT COUNT(*), COALESCE(SUM(CASE WHEN {IDENTIFIED_SQL} THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN c.first_order_at < {until_at} THEN 1 ELSE 0 END), 0)
    FROM customer c
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at >= {since_at} AND c.created_at < {until_at}
    UNION ALL
    SELECT 0, 0, COUNT(*)
    FROM customer c
    WHERE c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {since_at}
      AND c.first_order_at >= {since_at} AND c.first_order_at < {until_at}
    """
    rows = q.execute(sql).all()
    return CustomerCounts(customers=sum(int(r[0]) for r in rows), identified=sum(int(r[1]) for r in rows),
                          spenders=sum(int(r[2]) for r in rows))


def customer_counts_for_days(session: Session, store: Store, days: list[date]) -> dict[date, CustomerCounts]:
    """Customers, identified and spenders at the end of each local day: the `customer_counts` metric."""
    return runner.answer(session, store, "customer_counts", days=tuple(sorted(set(days)))).value


def _stored_customer_counts(session: Session, store: Store, days: list[date]) -> dict[date, CustomerCounts] | None:
    rows = daily.customer_rows(session, store, days)
    if rows is None:
        return None
    return {day: CustomerCounts(row.customers, row.identified, row.spenders) for day, row in rows.items()}


def stored_customer_counts(session: Session, store: Store, *,
                           days: Sequence[date]) -> StoredValue[dict[date, CustomerCounts]] | None:
    """The counts of `days` from the daily tables, or None unless every day is stored and fresh."""
    rows = daily.customer_rows(session, store, sorted(set(days)))
    if rows is None:
        return None
    return StoredValue({day: CustomerCounts(row.customers, row.identified, row.spenders) for day, row in rows.items()},
                       min((row.computed_at for row in rows.values()), default=None) or utcnow())


def forward_customer_counts(session: Session, store: Store, *,
                            days: Sequence[date]) -> dict[date, CustomerCounts] | None:
    """The counts of `days`, those after the newest stored day brought forward from it (`customer_changes`)."""
    def forward(base: CustomerCounts, since: datetime, until: datetime) -> CustomerCounts:
        change = customer_changes(session, store, since, until)
        return CustomerCounts(base.customers + change.customers, base.identified + change.identified,
                              base.spenders + change.spenders)

    return daily.brought_forward(session, store, sorted(set(days)),
                                 lambda stored_days: _stored_customer_counts(session, store, stored_days), forward)


def live_customer_counts(session: Session, store: Store, *, days: Sequence[date]) -> dict[date, CustomerCounts]:
    """The counts at the end of each of `days`, computed live (one statement)."""
    unique = sorted(set(days))
    return dict(zip(unique, customer_counts_at(session, store, [day_end(day, store.tz) for day in unique])))


def identified_from_counts(counts: dict[date, CustomerCounts], r: ResolvedRange,
                           periods: list[Bucket]) -> IdentifiedSeries:
    """The identified series of `periods` from counts that include each period's last day."""
    points = [
        IdentifiedPoint(label=p.label, first_day=p.first_day, last_day=p.last_day,
                        identified=counts[p.last_day].identified,
                        unidentified=counts[p.last_day].customers - counts[p.last_day].identified)
        for p in periods
    ]
    last = counts[r.last_day]
    return IdentifiedSeries(points=points, customers=last.customers, identified=last.identified)


def spenders_from_counts(counts: dict[date, CustomerCounts], day: date) -> SpendersProspects:
    """Spenders and prospects of `day` from counts that include it."""
    return SpendersProspects(day=day, spenders=counts[day].spenders,
                             prospects=counts[day].customers - counts[day].spenders)


def identified_over_time(session: Session, store: Store, r: ResolvedRange,
                         granularity: Granularity = Granularity.DAY) -> IdentifiedSeries:
    """Identified vs unidentified (docs/metrics.md, widget D) as of the end of each period, and all customers at the end."""
    periods = buckets(r, granularity)
    return identified_from_counts(customer_counts_for_days(session, store, [p.last_day for p in periods]), r, periods)


def spenders_prospects(session: Session, store: Store, r: ResolvedRange) -> SpendersProspects:
    """Spenders vs prospects (docs/metrics.md, widget E) at the end of the range."""
    return spenders_from_counts(customer_counts_for_days(session, store, [r.last_day]), r.last_day)


def activity_buckets(session: Session, store: Store, r: ResolvedRange) -> ActivityBuckets:
    """Activity (docs/metrics.md, widget F) at the end of the range: the `activity` metric."""
    return runner.answer(session, store, "activity", day=r.last_day).value


def stored_activity(session: Session, store: Store, *, day: date) -> StoredValue[ActivityBuckets] | None:
    """The activity buckets of `day` from its daily row computed under the store's current settings."""
    rows = daily.customer_rows(session, store, [day], current_settings=True)
    if rows is None:
        return None
    row, settings = rows[day], store.analytics_settings
    return StoredValue(ActivityBuckets(day=day, active=row.active, low_risk=row.low_risk, high_risk=row.high_risk,
                                       active_days=settings.active_days, low_risk_days=settings.low_risk_days),
                       row.computed_at)


def live_activity(session: Session, store: Store, *, day: date) -> ActivityBuckets:
    """The activity buckets at the end of `day`, computed live (`activity_at`)."""
    return activity_at(session, store, day)
