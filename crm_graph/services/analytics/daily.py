"""Reading the precomputed daily aggregates.

A day is precomputed for a store when its `DailyCustomerCount` row exists: `precompute_day` and
`precompute_range` write every daily table of a day in one transaction. A stored row is used only
while it is fresh: a day on or after the store's earliest pending `AnalyticsInvalidation` entry
(written by database triggers in the transaction of every change the figures depend on) is treated
as not precomputed until the workers have recomputed it (`fresh`, docs/analytics.md). Readers use
stored rows only when *every* day a widget needs is present and fresh, and, for the figures that
depend on store settings (activity buckets, spender segments), only when the rows were computed with
the store's current settings. Otherwise the widget is computed live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Date, func, literal
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from crm_graph.models import (
    AnalyticsInvalidation,
    DailyConsentCount,
    DailyConsentGenderCount,
    DailyCustomerCount,
    DailySpenderThresholds,
    DailyTagCount,
    Store,
    StoreSettings,
    Tag,
)
from crm_graph.models.enums import Channel, ConsentBucket, Gender
from crm_graph.services.dates import day_end

T = TypeVar("T")

#: At most this many days after the newest precomputed day are brought forward from it (reading only
#: what happened since); a longer gap is computed live over the whole history.
CATCH_UP_DAYS = 7


#: Stands for "no pending invalidation" in `fresh` (later than any stored day).
_NEVER = date(9999, 12, 31)


def stale_from(session: Session, store: Store) -> date | None:
    """The earliest day from which the store's stored figures are stale (pending invalidations), or None."""
    return session.exec(
        select(func.min(AnalyticsInvalidation.from_day)).where(AnalyticsInvalidation.store_id == store.id)
    ).one()


def fresh(day_column, store: Store) -> ColumnElement[bool]:
    """SQL: the stored row of `day_column` is still valid, i.e. its day is before the store's earliest
    pending invalidation. One uncorrelated index look-up, evaluated once per statement."""
    earliest = (select(func.min(AnalyticsInvalidation.from_day))
                .where(AnalyticsInvalidation.store_id == store.id).scalar_subquery())
    return day_column < func.coalesce(earliest, literal(_NEVER, Date))


def settings_key(settings: StoreSettings) -> str:
    """A short fingerprint of the settings the precomputed figures depend on."""
    low, high = settings.value_percentiles
    return f"a{settings.active_days}-l{settings.low_risk_days}-v{low:g}-{high:g}-f{settings.frequent_min_orders}"


def customer_rows(session: Session, store: Store, days: Iterable[date], *,
                  current_settings: bool = False) -> dict[date, DailyCustomerCount] | None:
    """The `DailyCustomerCount` rows of `days`, or None unless every day has one.

    With `current_settings`, rows computed under other store settings do not count.
    """
    wanted = set(days)
    if not wanted:
        return {}
    query = select(DailyCustomerCount).where(
        DailyCustomerCount.store_id == store.id, DailyCustomerCount.day.in_(sorted(wanted)),
        fresh(DailyCustomerCount.day, store),
    )
    if current_settings:
        query = query.where(DailyCustomerCount.settings_key == settings_key(store.analytics_settings))
    rows = {row.day: row for row in session.exec(query)}
    return rows if len(rows) == len(wanted) else None


def computed_at(session: Session, store: Store, days: Iterable[date]) -> datetime | None:
    """When the oldest of the stored days `days` was computed (every daily table of a day is written
    in the transaction of its `DailyCustomerCount` row), or None when none is stored."""
    return session.exec(select(func.min(DailyCustomerCount.computed_at)).where(
        DailyCustomerCount.store_id == store.id, DailyCustomerCount.day.in_(sorted(set(days))))).one()


def newest_day(session: Session, store: Store) -> date | None:
    """The newest precomputed day of the store that is still fresh, or None when none is."""
    return session.exec(
        select(DailyCustomerCount.day).where(DailyCustomerCount.store_id == store.id,
                                             fresh(DailyCustomerCount.day, store))
        .order_by(DailyCustomerCount.day.desc()).limit(1)
    ).first()


def brought_forward(session: Session, store: Store, days: list[date],
                    stored: Callable[[list[date]], dict[date, T] | None],
                    forward: Callable[[T, datetime, datetime], T]) -> dict[date, T] | None:
    """Figures of `days` (ascending) from the daily tables, where the days after the newest precomputed
    one (today, above all: the workers compute a day once it is over) are brought forward from it.

    `stored(days)` reads precomputed figures (None unless every day is there); `forward(base, since,
    until)` adds to the newest day's figures what changed between the end of that day and the end of a
    later one. None when some day is neither precomputed nor within `CATCH_UP_DAYS` after the newest.
    """
    newest = newest_day(session, store)
    if newest is None:
        return None
    later = [day for day in days if day > newest]
    if not later or (later[-1] - newest).days > CATCH_UP_DAYS:
        return None
    earlier = [day for day in days if day <= newest]
    found = stored(sorted({*earlier, newest}))
    if found is None:
        return None
    since = day_end(newest, store.tz)
    result = {day: found[day] for day in earlier}
    for day in later:
        result[day] = forward(found[newest], since, day_end(day, store.tz))
    return result


def consent_counts(session: Session, store: Store, days: list[date], *,
                   by_gender: bool = False) -> dict[date, dict[tuple[str, str | None, str], int]] | None:
    """Precomputed consent counts per day keyed like `consent.consent_counts_at`, or None if not covered.

    Whether the days are there and fresh is decided once, by `customer_rows`: the rows read next are
    those of the same days (a recompute replaces a day's rows of every table in one transaction), so
    an invalidation committed in between cannot leave a day half read.
    """
    if customer_rows(session, store, days) is None:
        return None
    result: dict[date, dict[tuple[str, str | None, str], int]] = {}
    genders: tuple[str | None, ...] = tuple(g.value for g in Gender) if by_gender else (None,)
    for day in days:
        result[day] = {(c.value, g, b.value): 0 for c in Channel for g in genders for b in ConsentBucket}
    if by_gender:
        rows = session.exec(select(DailyConsentGenderCount).where(
            DailyConsentGenderCount.store_id == store.id, DailyConsentGenderCount.day.in_(days)))
        for row in rows:
            result[row.day][(row.channel, row.gender, row.bucket)] = row.customers
    else:
        rows = session.exec(select(DailyConsentCount).where(
            DailyConsentCount.store_id == store.id, DailyConsentCount.day.in_(days)))
        for row in rows:
            result[row.day][(row.channel, None, row.bucket)] = row.customers
    return result


def spender_row(session: Session, store: Store, day: date) -> DailySpenderThresholds | None:
    """The precomputed spender thresholds and segment sizes of `day` under the current settings (when fresh)."""
    return session.exec(select(DailySpenderThresholds).where(
        DailySpenderThresholds.store_id == store.id, DailySpenderThresholds.day == day,
        DailySpenderThresholds.settings_key == settings_key(store.analytics_settings),
        fresh(DailySpenderThresholds.day, store),
    )).first()


def top_tag_rows(session: Session, store: Store, day: date, limit: int) -> list[tuple[int, str, int]] | None:
    """The precomputed top tags (id, name, customers) of `day`, or None when the day is not precomputed
    or not fresh (decided by `customer_rows`, as in `consent_counts`)."""
    if customer_rows(session, store, [day]) is None:
        return None
    rows = session.exec(
        select(Tag.id, Tag.name, DailyTagCount.customers)
        .join(Tag, Tag.id == DailyTagCount.tag_id)
        .where(DailyTagCount.store_id == store.id, DailyTagCount.day == day, DailyTagCount.customers > 0)
        .order_by(DailyTagCount.customers.desc(), Tag.name, Tag.id)
        .limit(limit)
    )
    return [(tag_id, name, customers) for tag_id, name, customers in rows]
