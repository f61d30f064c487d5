"""Spender segments by value and by frequency, with their thresholds (docs/metrics.md, widget G).

Over the spenders as of the end of local day D (customers created before that instant, not erased,
with a counted order placed before it):
- lifetime net revenue = their counted orders' totals − the refunds on those orders issued before
  the same instant; order count = their counted orders (both derived from the customer's lifetime
  figures, see `_spend`);
- value thresholds = the store's percentiles (default 50th and 80th) of net revenue, interpolated
  linearly like PostgreSQL's `percentile_cont`, computed exactly in SQL from the two neighbouring
  ranks; SMALL below the low threshold, MEDIUM from it to below the high one, BIG from the high one
  (a value equal to a threshold is in the upper segment);
- frequent threshold = the mean order count of customers with 2+ orders, rounded up, at least
  `frequent_min_orders` (default 3); ONE_TIME = 1 order, REPEAT = 2 up to below the threshold,
  FREQUENT = at least the threshold.
`spender_segments_query` gives the segment of each spender as a reusable SELECT (customer filters
use it); `spender_segments` the thresholds and segment sizes of the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import (
    CTE, Integer, Numeric, Select, Subquery, case, cast, func, literal, select, true, type_coerce, union_all,
)
from sqlmodel import Session

from crm_graph.models import Customer, Order, Refund, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.models.types import Money, UTCDateTime, utcnow
from crm_graph.services.analytics import daily, runner
from crm_graph.services.analytics.contract import StoredValue
from crm_graph.services.analytics.sql import money_up, tune_for_analytics
from crm_graph.services.dates import ResolvedRange, day_end

#: An interpolated threshold as read: a Decimal of every digit the database gives (ten places from SQLite's float).
_EXACT = Numeric(asdecimal=True)

VALUE_SEGMENTS = ("SMALL", "MEDIUM", "BIG")
FREQUENCY_SEGMENTS = ("ONE_TIME", "REPEAT", "FREQUENT")


@dataclass(frozen=True)
class SpenderSegments:
    """Thresholds and segment sizes as of the end of `day`; thresholds are None without spenders."""

    day: date
    spenders: int
    low_percentile: float
    high_percentile: float
    value_low: Decimal | None
    value_high: Decimal | None
    frequent_threshold: int
    small: int
    medium: int
    big: int
    one_time: int
    repeat: int
    frequent: int


def _fraction(percentile: float) -> tuple[int, int]:
    share = Fraction(Decimal(str(percentile))) / 100
    return share.numerator, share.denominator


def _correction(store: Store, end) -> Subquery:
    """Per customer: what happened from instant `end` on to its lifetime figures (`n` orders, `net`).

    Counted orders placed from `end` on (with all their refunds) and refunds issued from `end` on to
    earlier counted orders; the lifetime figures minus this are the figures as of `end`.
    """
    counted = Order.status.in_(COUNTED_ORDER_STATUSES)
    refunds = (
        select(Refund.order_id, func.sum(Refund.amount).label("refunded"))
        .where(Refund.store_id == store.id)
        .group_by(Refund.order_id)
        .subquery("refunds")
    )
    later_orders = (
        select(Order.customer_id.label("customer_id"), func.count().label("n"),
               (func.sum(Order.total) - func.coalesce(func.sum(refunds.c.refunded), 0)).label("net"))
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(Order.store_id == store.id, counted, Order.placed_at >= end, Order.customer_id.is_not(None))
        .group_by(Order.customer_id)
    )
    later_refunds = (
        select(Order.customer_id.label("customer_id"), literal(0).label("n"), (-func.sum(Refund.amount)).label("net"))
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.store_id == store.id, Refund.refunded_at >= end, Order.store_id == store.id, counted,
               Order.placed_at < end, Order.customer_id.is_not(None))
        .group_by(Order.customer_id)
    )
    later = union_all(later_orders, later_refunds).subquery("later")
    return (
        # PostgreSQL sums integers into numeric: cast back, so that the order counts stay integers and
        # the frequent threshold (an integer division) is rounded up on both databases.
        select(later.c.customer_id, cast(func.sum(later.c.n), Integer).label("n"), func.sum(later.c.net).label("net"))
        .group_by(later.c.customer_id)
        .subquery("correction")
    )


def _spend(store: Store, as_of_day: date) -> CTE:
    """Per spender as of the end of `as_of_day`: counted orders and lifetime net revenue.

    Read from the lifetime figures on the customer row (`orders_count`, `total_spent`, kept by
    `customer_stats`) minus what happened from the end of the day on: counted orders placed later
    (with all their refunds) and later refunds on earlier orders. For a recent day that is a scan of
    the customers and of a few recent orders instead of an aggregate of the whole order history.
    """
    end = literal(day_end(as_of_day, store.tz), UTCDateTime)
    correction = _correction(store, end)
    orders = Customer.orders_count - func.coalesce(correction.c.n, 0)
    net = func.round(Customer.total_spent - func.coalesce(correction.c.net, 0), 2)
    return (
        select(Customer.id.label("customer_id"), orders.label("orders"), net.label("net"))
        .outerjoin(correction, correction.c.customer_id == Customer.id)
        .where(Customer.store_id == store.id, Customer.erased_at.is_(None), Customer.created_at < end, orders > 0)
        .cte("spend")
    )


def spend_as_of(store: Store, instant: datetime) -> Select:
    """SELECT (customer_id, created_at, orders, net) as of `instant` of every customer that may ever be a
    spender (not erased, with counted orders in its lifetime figures), whenever it was created.

    The same arithmetic as the live segments (`_spend`) without their filters and rounding: the start
    of a running state that later days advance with their own orders and refunds (`running`).
    """
    correction = _correction(store, literal(instant, UTCDateTime))
    return (
        select(Customer.id, Customer.created_at, Customer.orders_count - func.coalesce(correction.c.n, 0),
               Customer.total_spent - func.coalesce(correction.c.net, 0))
        .outerjoin(correction, correction.c.customer_id == Customer.id)
        .where(Customer.store_id == store.id, Customer.erased_at.is_(None), Customer.orders_count > 0)
    )


def _thresholds(store: Store, spend: CTE) -> CTE:
    """One row: spenders, the two value thresholds (exact) and the frequent threshold."""
    settings = store.analytics_settings
    (n1, d1), (n2, d2) = (_fraction(p) for p in settings.value_percentiles)
    ranked = select(
        spend.c.net, spend.c.orders,
        (func.row_number().over(order_by=spend.c.net) - 1).label("i"),
        func.count().over().label("cnt"),
    ).subquery("ranked")
    i, cnt = ranked.c.i, ranked.c.cnt

    def at(position):
        return func.max(case((i == position, ranked.c.net)))

    pos1 = (literal(n1) * (cnt - 1)) // d1
    pos2 = (literal(n2) * (cnt - 1)) // d2
    reps = func.sum(case((ranked.c.orders >= 2, 1), else_=0))
    rep_orders = func.sum(case((ranked.c.orders >= 2, ranked.c.orders), else_=0))
    raw = select(
        func.count().label("spenders"),
        func.max((literal(n1) * (cnt - 1)) % d1).label("rem1"),
        func.max((literal(n2) * (cnt - 1)) % d2).label("rem2"),
        at(pos1).label("lo1"), at(pos1 + 1).label("hi1"),
        at(pos2).label("lo2"), at(pos2 + 1).label("hi2"),
        reps.label("reps"), rep_orders.label("rep_orders"),
    ).subquery("raw")
    mean_up = case((raw.c.reps > 0, (raw.c.rep_orders + raw.c.reps - 1) // raw.c.reps), else_=0)
    minimum = settings.frequent_min_orders

    def interpolate(lo, hi, rem, den):
        # Read as an unscaled number: through Money's two-place result processor, SQLite's float would
        # be rounded to the nearest cent before `money_up` rounds it up (380.522 would give 380.52).
        return type_coerce(lo + (func.coalesce(hi, lo) - lo) * cast(rem, Money) / den, _EXACT)

    return select(
        raw.c.spenders,
        interpolate(raw.c.lo1, raw.c.hi1, raw.c.rem1, d1).label("low"),
        interpolate(raw.c.lo2, raw.c.hi2, raw.c.rem2, d2).label("high"),
        case((mean_up > minimum, mean_up), else_=minimum).label("frequent"),
    ).cte("thresholds")


def _segments(spend: CTE, thresholds: CTE) -> Select:
    value = case((spend.c.net >= thresholds.c.high, "BIG"), (spend.c.net >= thresholds.c.low, "MEDIUM"),
                 else_="SMALL")
    frequency = case((spend.c.orders >= thresholds.c.frequent, "FREQUENT"), (spend.c.orders >= 2, "REPEAT"),
                     else_="ONE_TIME")
    return select(spend.c.customer_id, value.label("value_segment"), frequency.label("frequency_segment"),
                  spend.c.net, spend.c.orders).select_from(spend.join(thresholds, true()))


def spender_segments_query(store: Store, as_of_day: date) -> Select:
    """SELECT (customer_id, value_segment, frequency_segment) of every spender as of the end of `as_of_day`.

    value_segment is SMALL, MEDIUM or BIG; frequency_segment ONE_TIME, REPEAT or FREQUENT. Use it as a
    subquery to filter customers by segment.
    """
    spend = _spend(store, as_of_day)
    segments = _segments(spend, _thresholds(store, spend)).subquery("segments")
    return select(segments.c.customer_id, segments.c.value_segment, segments.c.frequency_segment)


def spender_segments_at(session: Session, store: Store, day: date) -> SpenderSegments:
    """Live: thresholds and segment sizes as of the end of local `day`; one statement."""
    return segments_of(session, store, day, _spend(store, day))


def segments_of(session: Session, store: Store, day: date, spend: CTE) -> SpenderSegments:
    """Thresholds and segment sizes of `day` over `spend`, a CTE of (customer_id, orders, net) of the
    day's spenders (net rounded to the cent); one statement."""
    thresholds = _thresholds(store, spend)
    segments = _segments(spend, thresholds).subquery("segments")

    def count(column, name):
        return func.coalesce(func.sum(case((column == name, 1), else_=0)), 0)

    summary = select(
        *(count(segments.c.value_segment, name) for name in VALUE_SEGMENTS),
        *(count(segments.c.frequency_segment, name) for name in FREQUENCY_SEGMENTS),
    ).subquery("summary")
    tune_for_analytics(session)
    row = session.execute(
        select(thresholds.c.spenders, thresholds.c.low, thresholds.c.high, thresholds.c.frequent, summary)
        .select_from(thresholds.join(summary, true()))
    ).one()
    spenders, low, high, frequent, small, medium, big, one_time, repeat, frequent_count = row
    low_p, high_p = store.analytics_settings.value_percentiles
    return SpenderSegments(
        day=day, spenders=int(spenders), low_percentile=low_p, high_percentile=high_p,
        value_low=money_up(low) if spenders else None, value_high=money_up(high) if spenders else None,
        frequent_threshold=int(frequent), small=int(small), medium=int(medium), big=int(big),
        one_time=int(one_time), repeat=int(repeat), frequent=int(frequent_count),
    )


def spender_segments(session: Session, store: Store, r: ResolvedRange) -> SpenderSegments:
    """Spender segments (docs/metrics.md, widget G) over all history up to the end of the range: the `spender_segments` metric."""
    return runner.answer(session, store, "spender_segments", day=r.last_day).value


def stored_spender_segments(session: Session, store: Store, *, day: date) -> StoredValue[SpenderSegments] | None:
    """The thresholds and segment sizes of `day` from its daily row under the current settings, when fresh."""
    row = daily.spender_row(session, store, day)
    if row is None:
        return None
    low_p, high_p = store.analytics_settings.value_percentiles
    return StoredValue(SpenderSegments(
        day=day, spenders=row.spenders, low_percentile=low_p, high_percentile=high_p,
        value_low=row.value_low if row.spenders else None, value_high=row.value_high if row.spenders else None,
        frequent_threshold=row.frequent_threshold, small=row.small, medium=row.medium, big=row.big,
        one_time=row.one_time, repeat=row.repeat, frequent=row.frequent,
    ), daily.computed_at(session, store, [day]) or utcnow())


def live_spender_segments(session: Session, store: Store, *, day: date) -> SpenderSegments:
    """The thresholds and segment sizes at the end of `day`, computed live (`spender_segments_at`)."""
    return spender_segments_at(session, store, day)
