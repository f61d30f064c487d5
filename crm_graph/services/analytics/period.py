"""Putler's period KPIs (SPEC §4.J): customers, new, returning, lost, revenue... and their time series.

Every figure is about the orders *placed* in the range, compared with the previous period of the same
number of days immediately before it. The rules the spec leaves open, decided here (docs/metrics.md
says the same):

- Customers are the store's customers that are not erased; an order without a customer (a guest the
  ingest could not match by email or phone) is nobody's: it is reported apart as `unattributed_*`
  and kept out of every other figure, so that revenue / customers and revenue / orders stay coherent.
- customers = unique customers with a counted order placed in the period; new = their first counted
  order ever is in the period; returning = they had a counted order before the period
  (customers = new + returning). "First counted order ever" is the customer's `first_order_at`,
  which `refresh_customer_stats` keeps equal to the earliest counted order.
- net revenue = totals of counted orders placed in the period minus their refunds issued by the end
  of the period; orders = counted orders.
- lost = customers who placed orders in the period (PAID, COMPLETED, REFUNDED or CANCELLED; PENDING
  and FAILED are not orders yet) and every one of them is cancelled or refunded, where refunded means
  status REFUNDED or refunds issued by the end of the period of at least the order total (and above 0).
  lost share = lost / those ordering customers.
- one-time / repeat buyers = customers with exactly 1 / at least 2 counted orders *in the period*
  (Putler shows them as a period KPI).
- top 20% = the ceil(n / 5) customers with the highest net revenue in the period (n = customers);
  their share of the customers' net revenue. Ties at the border do not change the sum.
- average LTV = lifetime net revenue (counted orders placed before the end of the period minus their
  refunds issued by then) per spender (customer with a counted order placed by then).
- averages are exact quotients rounded half-up to 2 places; shares to 4 places; "a new customer
  every" = days × 86,400 s / new customers, rounded to the second.

Two SQL statements answer a request: the KPIs of both periods (with the lifetime figures), the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, and_, case, func, literal, or_, select, true
from sqlmodel import Session

from crm_graph.models import Customer, Order, Refund, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES, OrderStatus
from crm_graph.models.types import ZERO
from crm_graph.services.analytics.sqltime import bucket_index
from crm_graph.services.dates import Bucket, Granularity, ResolvedRange, buckets, previous_period

_PLACES = Decimal("0.01")
_SHARE_PLACES = Decimal("0.0001")
_ORDERING_STATUSES = (*COUNTED_ORDER_STATUSES, OrderStatus.CANCELLED.value)
_PERIODS = (1, 0)  # 1 = the range asked about, 0 = the previous period


@dataclass(frozen=True)
class PeriodFigures:
    """The KPIs of one period (see the module docstring for each definition)."""

    range: ResolvedRange
    customers: int
    new_customers: int
    returning_customers: int
    lost_customers: int
    ordering_customers: int
    net_revenue: Decimal
    orders: int
    one_time_buyers: int
    repeat_buyers: int
    top_customers: int
    top_customers_revenue: Decimal
    spenders: int
    lifetime_revenue: Decimal
    unattributed_orders: int
    unattributed_revenue: Decimal

    @property
    def lost_share(self) -> Decimal | None:
        """Lost customers / customers who placed orders in the period; None when nobody did."""
        return _ratio(self.lost_customers, self.ordering_customers, _SHARE_PLACES)

    @property
    def average_revenue_per_customer(self) -> Decimal | None:
        """Net revenue / customers."""
        return _ratio(self.net_revenue, self.customers)

    @property
    def orders_per_customer(self) -> Decimal | None:
        """Orders / customers."""
        return _ratio(self.orders, self.customers)

    @property
    def average_order_value(self) -> Decimal | None:
        """Net revenue / orders."""
        return _ratio(self.net_revenue, self.orders)

    @property
    def average_ltv(self) -> Decimal | None:
        """Lifetime net revenue per spender, as of the end of the period."""
        return _ratio(self.lifetime_revenue, self.spenders)

    @property
    def acquired_per_day(self) -> Decimal:
        """New customers / days in the period."""
        return _ratio(self.new_customers, self.range.days)

    @property
    def new_customer_every_seconds(self) -> int | None:
        """Days in the period (of 86,400 s) / new customers, in whole seconds; None without new customers."""
        if not self.new_customers:
            return None
        seconds = Decimal(self.range.days * 86400) / Decimal(self.new_customers)
        return int(seconds.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def top_customers_share(self) -> Decimal | None:
        """Net revenue of the top 20% customers / net revenue of all customers; None when that is not positive."""
        if self.net_revenue <= 0:
            return None
        return _ratio(self.top_customers_revenue, self.net_revenue, _SHARE_PLACES)


@dataclass(frozen=True)
class SeriesPoint:
    """One period of the time series."""

    bucket: Bucket
    customers: int
    new_customers: int
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class PeriodKpis:
    """The KPIs of a range and of the previous period, and the range's time series."""

    current: PeriodFigures
    previous: PeriodFigures
    granularity: Granularity
    series: list[SeriesPoint]


def _ratio(numerator, denominator, places: Decimal = _PLACES) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(_PLACES, rounding=ROUND_HALF_UP)


def iso_duration(seconds: int | None) -> str | None:
    """An ISO 8601 duration in days, hours, minutes and seconds: 129600 -> ``P1DT12H``."""
    if seconds is None:
        return None
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value)
    text = "P" + (f"{days}D" if days else "")
    if time_part:
        text += "T" + time_part
    return text if text != "P" else "PT0S"


def _kpi_statement(store: Store, current: ResolvedRange, previous: ResolvedRange):
    """One row: the KPIs of both periods as columns `<name>_1` (current) and `<name>_0` (previous)."""
    start, end, prev_start = current.start, current.end, previous.start
    refunds = (
        select(
            Refund.order_id.label("order_id"),
            func.sum(Refund.amount).label("by_end"),
            func.sum(case((Refund.refunded_at < start, Refund.amount), else_=0)).label("by_start"),
        )
        .where(Refund.store_id == store.id, Refund.refunded_at < end)
        .group_by(Refund.order_id)
        .subquery("period_refunds")
    )
    period = case((Order.placed_at >= start, literal(1, Integer)), else_=literal(0, Integer))
    refunded = func.coalesce(case((Order.placed_at >= start, refunds.c.by_end), else_=refunds.c.by_start), 0)
    counted = Order.status.in_(COUNTED_ORDER_STATUSES)
    gone = or_(Order.status.in_((OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value)),
               and_(refunded > 0, refunded >= Order.total))
    per_order = (
        select(
            Order.customer_id.label("customer_id"),
            period.label("period"),
            case((counted, 1), else_=0).label("counted"),
            case((counted, Order.total - refunded), else_=0).label("net"),
            case((gone, 1), else_=0).label("gone"),
            Customer.first_order_at.label("first_order_at"),
        )
        .select_from(Order)
        .outerjoin(Customer, and_(Customer.id == Order.customer_id, Customer.store_id == store.id))
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(
            Order.store_id == store.id,
            Order.status.in_(_ORDERING_STATUSES),
            Order.placed_at >= prev_start,
            Order.placed_at < end,
            or_(Order.customer_id.is_(None), Customer.erased_at.is_(None)),
        )
        .subquery("per_order")
    )
    per_customer = (
        select(
            per_order.c.customer_id,
            per_order.c.period,
            func.sum(per_order.c.counted).label("orders"),
            func.sum(per_order.c.net).label("net"),
            func.count().label("ordered"),
            func.sum(per_order.c.gone).label("gone"),
            func.max(per_order.c.first_order_at).label("first_order_at"),
        )
        .group_by(per_order.c.customer_id, per_order.c.period)
        .subquery("per_customer")
    )
    buyer = and_(per_customer.c.customer_id.is_not(None), per_customer.c.orders > 0)
    buyer_flag = case((buyer, 1), else_=0)
    ranked = select(
        per_customer,
        buyer_flag.label("buyer"),
        func.row_number().over(partition_by=[per_customer.c.period, buyer_flag],
                               order_by=[per_customer.c.net.desc(), per_customer.c.customer_id]).label("rank"),
        func.count().over(partition_by=[per_customer.c.period, buyer_flag]).label("group_size"),
    ).subquery("ranked")

    columns = []
    for p, period_start in ((1, start), (0, prev_start)):
        here = ranked.c.period == p
        is_buyer = and_(here, ranked.c.buyer == 1)
        known = and_(here, ranked.c.customer_id.is_not(None))
        guest = and_(here, ranked.c.customer_id.is_(None))

        def total(condition, value=1, name=""):
            return func.coalesce(func.sum(case((condition, value), else_=0)), 0).label(f"{name}_{p}")

        columns += [
            total(is_buyer, name="customers"),
            total(and_(is_buyer, ranked.c.first_order_at >= period_start), name="new_customers"),
            total(and_(is_buyer, ranked.c.first_order_at < period_start), name="returning_customers"),
            total(and_(known, ranked.c.gone == ranked.c.ordered), name="lost_customers"),
            total(known, name="ordering_customers"),
            total(known, ranked.c.net, name="net_revenue"),
            total(known, ranked.c.orders, name="orders"),
            total(and_(is_buyer, ranked.c.orders == 1), name="one_time_buyers"),
            total(and_(is_buyer, ranked.c.orders >= 2), name="repeat_buyers"),
            total(and_(is_buyer, ranked.c.rank <= (ranked.c.group_size + 4) // 5), name="top_customers"),
            total(and_(is_buyer, ranked.c.rank <= (ranked.c.group_size + 4) // 5), ranked.c.net,
                  name="top_customers_revenue"),
            total(guest, ranked.c.orders, name="unattributed_orders"),
            total(guest, ranked.c.net, name="unattributed_revenue"),
        ]
    kpis = select(*columns).subquery("kpis")
    spent, later_totals, refund_terms = _lifetime_parts(store, current)
    return select(kpis, spent, later_totals, refund_terms).select_from(
        kpis.join(spent, true()).join(later_totals, true()).join(refund_terms, true()))


def _lifetime_parts(store: Store, current: ResolvedRange):
    """Three one-row subqueries giving spenders and lifetime net revenue as of each period's end.

    Read from the customers' maintained lifetime figures (`total_spent`, `first_order_at`) and
    corrected by the orders and refunds after the period's end, so the cost does not grow with the
    store's order history. For X the end of a period:
    net as of X = Σ total_spent of spenders by X − totals of their orders placed at or after X
                  + all refunds of those orders + refunds issued at or after X on orders placed before X.
    Columns: spenders_P, spent_P, later_P, later_refunds_P, late_refunds_P for P = 1 (X = end of the
    range) and 0 (X = its start, the end of the previous period).
    """
    start, end = current.start, current.end
    ends = ((1, end), (0, start))
    live = and_(Customer.store_id == store.id, Customer.erased_at.is_(None))

    def total(condition, value, name):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0).label(name)

    spent = select(
        *[total(Customer.first_order_at < x, 1, f"spenders_{p}") for p, x in ends],
        *[total(Customer.first_order_at < x, Customer.total_spent, f"spent_{p}") for p, x in ends],
    ).where(live, Customer.first_order_at < end).subquery("spent")
    counted_of_spender = and_(Order.store_id == store.id, Order.status.in_(COUNTED_ORDER_STATUSES), live,
                              Customer.id == Order.customer_id)
    later_totals = select(
        *[total(and_(Order.placed_at >= x, Customer.first_order_at < x), Order.total, f"later_{p}") for p, x in ends]
    ).where(counted_of_spender, Order.placed_at >= start).subquery("later_totals")
    refund_terms = select(
        *[total(and_(Order.placed_at >= x, Customer.first_order_at < x), Refund.amount, f"later_refunds_{p}")
          for p, x in ends],
        *[total(and_(Order.placed_at < x, Refund.refunded_at >= x), Refund.amount, f"late_refunds_{p}")
          for p, x in ends],
    ).where(counted_of_spender, Refund.store_id == store.id, Refund.order_id == Order.id,
            or_(Order.placed_at >= start, Refund.refunded_at >= start)).subquery("refund_terms")
    return spent, later_totals, refund_terms


def _series_statement(store: Store, current: ResolvedRange, periods: list[Bucket]):
    """(bucket, customers, new customers, net revenue, orders) per non-empty period of the series."""
    refunds = (
        select(Refund.order_id.label("order_id"), func.sum(Refund.amount).label("refunded"))
        .where(Refund.store_id == store.id, Refund.refunded_at < current.end)
        .group_by(Refund.order_id)
        .subquery("series_refunds")
    )
    bucket = bucket_index(Order.placed_at, [period.end for period in periods[:-1]]).label("bucket")
    per_order = (
        select(
            bucket,
            Order.customer_id.label("customer_id"),
            (Order.total - func.coalesce(refunds.c.refunded, 0)).label("net"),
            case((Order.placed_at == Customer.first_order_at, Order.customer_id), else_=None).label("first_of"),
        )
        .join(Customer, and_(Customer.id == Order.customer_id, Customer.store_id == store.id))
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(
            Order.store_id == store.id,
            Order.status.in_(COUNTED_ORDER_STATUSES),
            Order.placed_at >= current.start,
            Order.placed_at < current.end,
            Customer.erased_at.is_(None),
        )
        .subquery("series_orders")
    )
    return select(
        per_order.c.bucket,
        func.count(func.distinct(per_order.c.customer_id)),
        func.count(func.distinct(per_order.c.first_of)),
        func.sum(per_order.c.net),
        func.count(),
    ).group_by(per_order.c.bucket)


def period_kpis(session: Session, store: Store, resolved_range: ResolvedRange,
                granularity: Granularity | str = Granularity.DAY, *, with_series: bool = True) -> PeriodKpis:
    """The Putler KPIs of `resolved_range` and of the previous period, and the series at `granularity`."""
    granularity = Granularity(granularity)
    previous = previous_period(resolved_range)
    periods = buckets(resolved_range, granularity)  # validates the number of points first
    row = session.execute(_kpi_statement(store, resolved_range, previous)).mappings().one()

    def figures(p: int, r: ResolvedRange) -> PeriodFigures:
        return PeriodFigures(
            range=r,
            customers=int(row[f"customers_{p}"]),
            new_customers=int(row[f"new_customers_{p}"]),
            returning_customers=int(row[f"returning_customers_{p}"]),
            lost_customers=int(row[f"lost_customers_{p}"]),
            ordering_customers=int(row[f"ordering_customers_{p}"]),
            net_revenue=_money(row[f"net_revenue_{p}"]),
            orders=int(row[f"orders_{p}"]),
            one_time_buyers=int(row[f"one_time_buyers_{p}"]),
            repeat_buyers=int(row[f"repeat_buyers_{p}"]),
            top_customers=int(row[f"top_customers_{p}"]),
            top_customers_revenue=_money(row[f"top_customers_revenue_{p}"]),
            spenders=int(row[f"spenders_{p}"]),
            lifetime_revenue=_money(Decimal(str(row[f"spent_{p}"])) - Decimal(str(row[f"later_{p}"]))
                                    + Decimal(str(row[f"later_refunds_{p}"]))
                                    + Decimal(str(row[f"late_refunds_{p}"]))),
            unattributed_orders=int(row[f"unattributed_orders_{p}"]),
            unattributed_revenue=_money(row[f"unattributed_revenue_{p}"]),
        )

    series: list[SeriesPoint] = []
    if with_series:
        found = {int(index): rest for index, *rest in session.execute(_series_statement(store, resolved_range, periods))}
        for index, period in enumerate(periods):
            customers, new, revenue, orders = found.get(index, (0, 0, None, 0))
            series.append(SeriesPoint(bucket=period, customers=int(customers), new_customers=int(new),
                                      revenue=_money(revenue), orders=int(orders)))
    return PeriodKpis(current=figures(1, resolved_range), previous=figures(0, previous),
                      granularity=granularity, series=series)


def change(current, previous) -> tuple[object | None, float | None]:
    """(current − previous, relative change rounded to 4 places); the relative one is None when previous is 0 or None."""
    if current is None or previous is None:
        return None, None
    absolute = current - previous
    if not previous:
        return absolute, None
    return absolute, round(float(Decimal(absolute) / Decimal(previous)), 4)

