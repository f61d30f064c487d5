"""Putler's period KPIs (docs/metrics.md, “Period KPIs”): customers, new, returning, lost, revenue... and their time series.

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

from sqlalchemy import Integer, and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_graph.models import Customer, Order, Refund, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES, OrderStatus
from crm_graph.models.types import ZERO
from crm_graph.services.analytics.scope import counted_in, erased_customer_ids, of_live_customer
from crm_graph.services.analytics.sql import tune_for_analytics
from crm_graph.services.analytics.sql import bucket_index
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
    """One row: the KPIs of both periods as columns `<name>_1` (current) and `<name>_0` (previous).

    Besides the per-period figures it carries the parts of the lifetime revenue (`_lifetime`).
    """
    start, end, prev_start = current.start, current.end, previous.start
    refunds = (
        select(
            Refund.order_id.label("order_id"),
            func.sum(case((Refund.refunded_at < end, Refund.amount), else_=0)).label("by_end"),
            func.sum(case((Refund.refunded_at < start, Refund.amount), else_=0)).label("by_start"),
            func.sum(Refund.amount).label("ever"),
        )
        .where(Refund.store_id == store.id)
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
            case((counted, Order.total), else_=0).label("gross"),
            case((counted, func.coalesce(refunds.c.ever, 0)), else_=0).label("ever"),
        )
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(
            Order.store_id == store.id,
            Order.status.in_(_ORDERING_STATUSES),
            Order.placed_at >= prev_start,
            Order.placed_at < end,
            or_(Order.customer_id.is_(None), Order.customer_id.not_in(erased_customer_ids(store))),
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
            func.sum(per_order.c.gross).label("gross"),
            func.sum(per_order.c.ever).label("ever"),
        )
        .group_by(per_order.c.customer_id, per_order.c.period)
        .subquery("per_customer")
    )
    buyer_flag = case((and_(per_customer.c.customer_id.is_not(None), per_customer.c.orders > 0), 1), else_=0)
    ranked = select(
        per_customer,
        buyer_flag.label("buyer"),
        func.row_number().over(partition_by=[per_customer.c.period, buyer_flag],
                               order_by=[per_customer.c.net.desc(), per_customer.c.customer_id]).label("rank"),
        func.count().over(partition_by=[per_customer.c.period, buyer_flag]).label("group_size"),
    ).subquery("ranked")

    def total(condition, value, name):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0).label(name)

    columns = []
    for p in _PERIODS:
        here = ranked.c.period == p
        is_buyer = and_(here, ranked.c.buyer == 1)
        known = and_(here, ranked.c.customer_id.is_not(None))
        guest = and_(here, ranked.c.customer_id.is_(None))
        top = and_(is_buyer, ranked.c.rank <= (ranked.c.group_size + 4) // 5)
        columns += [
            total(is_buyer, 1, f"customers_{p}"),
            total(and_(known, ranked.c.gone == ranked.c.ordered), 1, f"lost_customers_{p}"),
            total(known, 1, f"ordering_customers_{p}"),
            total(known, ranked.c.net, f"net_revenue_{p}"),
            total(known, ranked.c.orders, f"orders_{p}"),
            total(and_(is_buyer, ranked.c.orders == 1), 1, f"one_time_buyers_{p}"),
            total(and_(is_buyer, ranked.c.orders >= 2), 1, f"repeat_buyers_{p}"),
            total(top, 1, f"top_customers_{p}"),
            total(top, ranked.c.net, f"top_customers_revenue_{p}"),
            total(guest, ranked.c.orders, f"unattributed_orders_{p}"),
            total(guest, ranked.c.net, f"unattributed_revenue_{p}"),
        ]
    current_period = and_(ranked.c.period == 1, ranked.c.customer_id.is_not(None))
    columns += [total(current_period, ranked.c.gross, "gross_1"), total(current_period, ranked.c.ever, "ever_1")]
    kpis = select(*columns).subquery("kpis")

    first = Customer.first_order_at
    people = select(
        total(first < end, 1, "spenders_1"),
        total(first < start, 1, "spenders_0"),
        total(and_(first >= start, first < end), 1, "new_customers_1"),
        total(and_(first >= prev_start, first < start), 1, "new_customers_0"),
        func.coalesce(func.sum(Customer.total_spent), 0).label("spent"),
    ).where(Customer.store_id == store.id, Customer.erased_at.is_(None)).subquery("people")
    later_order = aliased(Order)
    order_refunds = (select(func.sum(Refund.amount)).where(Refund.store_id == store.id, Refund.order_id == later_order.id)
                     .correlate(later_order).scalar_subquery())
    after = select(
        func.coalesce(func.sum(later_order.total), 0).label("later_total"),
        func.coalesce(func.sum(order_refunds), 0).label("later_refunds"),
    ).where(
        later_order.store_id == store.id, later_order.status.in_(COUNTED_ORDER_STATUSES), later_order.placed_at >= end,
        later_order.customer_id.is_not(None), later_order.customer_id.not_in(erased_customer_ids(store)),
    ).subquery("after")
    late = select(
        total(and_(Refund.refunded_at >= end, Order.placed_at < end), Refund.amount, "late_refunds_1"),
        total(Order.placed_at < start, Refund.amount, "late_refunds_0"),
    ).join(Order, Order.id == Refund.order_id).where(
        Refund.store_id == store.id, Refund.refunded_at >= start, Order.store_id == store.id, counted,
        Order.placed_at < end, of_live_customer(store),
    ).subquery("late")
    return select(kpis, people, after, late).select_from(
        kpis.join(people, true()).join(after, true()).join(late, true()))


def _lifetime(row) -> tuple[Decimal, Decimal]:
    """Lifetime net revenue of all (not erased) customers as of the end of the range and of its start.

    Starts from Σ `total_spent` (every counted order and refund ever, kept on the customer rows by
    `refresh_customer_stats`) and takes back what happened after X:
    net as of X = Σ total_spent − totals of counted orders placed at or after X + all refunds of
    those orders + refunds issued at or after X on orders placed before X.
    The orders placed in the range come from the range's own scan, so only the few orders and
    refunds after the range are read besides it, however long the store's history.
    """
    def d(name: str) -> Decimal:
        return Decimal(str(row[name]))

    at_end = d("spent") - d("later_total") + d("later_refunds") + d("late_refunds_1")
    at_start = (d("spent") - d("later_total") - d("gross_1") + d("later_refunds") + d("ever_1")
                + d("late_refunds_0"))
    return at_end, at_start


def _series_statement(store: Store, current: ResolvedRange, periods: list[Bucket]):
    """(kind, bucket, customers, net revenue, orders) rows: kind 0 per period with orders; kind 1 new customers.

    New customers of a period are the (not erased) customers whose `first_order_at` falls in it.
    """
    ends = [period.end for period in periods[:-1]]
    refunds = (
        select(Refund.order_id.label("order_id"), func.sum(Refund.amount).label("refunded"))
        .where(Refund.store_id == store.id, Refund.refunded_at < current.end)
        .group_by(Refund.order_id)
        .subquery("series_refunds")
    )
    per_order = (
        select(
            bucket_index(Order.placed_at, ends).label("bucket"),
            Order.customer_id.label("customer_id"),
            (Order.total - func.coalesce(refunds.c.refunded, 0)).label("net"),
        )
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(*counted_in(store, current.start, current.end), of_live_customer(store))
        .subquery("series_orders")
    )
    sales = select(
        literal(0, Integer).label("kind"),
        per_order.c.bucket,
        func.count(func.distinct(per_order.c.customer_id)),
        func.sum(per_order.c.net),
        func.count(),
    ).group_by(per_order.c.bucket)
    first = bucket_index(Customer.first_order_at, ends).label("bucket")
    newcomers = select(literal(1, Integer).label("kind"), first, func.count(), literal(0), literal(0)).where(
        Customer.store_id == store.id, Customer.erased_at.is_(None),
        Customer.first_order_at >= current.start, Customer.first_order_at < current.end,
    ).group_by(first)
    return union_all(sales, newcomers)


def period_kpis(session: Session, store: Store, resolved_range: ResolvedRange,
                granularity: Granularity | str = Granularity.DAY, *, with_series: bool = True) -> PeriodKpis:
    """The Putler KPIs of `resolved_range` and of the previous period, and the series at `granularity`."""
    granularity = Granularity(granularity)
    previous = previous_period(resolved_range)
    periods = buckets(resolved_range, granularity)  # validates the number of points first
    tune_for_analytics(session)
    row = session.execute(_kpi_statement(store, resolved_range, previous)).mappings().one()
    lifetime = dict(zip((1, 0), _lifetime(row)))

    def figures(p: int, r: ResolvedRange) -> PeriodFigures:
        customers, new = int(row[f"customers_{p}"]), int(row[f"new_customers_{p}"])
        return PeriodFigures(
            range=r,
            customers=customers,
            new_customers=new,
            returning_customers=customers - new,
            lost_customers=int(row[f"lost_customers_{p}"]),
            ordering_customers=int(row[f"ordering_customers_{p}"]),
            net_revenue=_money(row[f"net_revenue_{p}"]),
            orders=int(row[f"orders_{p}"]),
            one_time_buyers=int(row[f"one_time_buyers_{p}"]),
            repeat_buyers=int(row[f"repeat_buyers_{p}"]),
            top_customers=int(row[f"top_customers_{p}"]),
            top_customers_revenue=_money(row[f"top_customers_revenue_{p}"]),
            spenders=int(row[f"spenders_{p}"]),
            lifetime_revenue=_money(lifetime[p]),
            unattributed_orders=int(row[f"unattributed_orders_{p}"]),
            unattributed_revenue=_money(row[f"unattributed_revenue_{p}"]),
        )

    series: list[SeriesPoint] = []
    if with_series:
        sales: dict[int, tuple] = {}
        newcomers: dict[int, int] = {}
        for kind, index, customers, revenue, orders in session.execute(
                _series_statement(store, resolved_range, periods)):
            if kind == 0:
                sales[int(index)] = (int(customers), revenue, int(orders))
            else:
                newcomers[int(index)] = int(customers)
        for index, period in enumerate(periods):
            customers, revenue, orders = sales.get(index, (0, None, 0))
            series.append(SeriesPoint(bucket=period, customers=customers, new_customers=newcomers.get(index, 0),
                                      revenue=_money(revenue), orders=orders))
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

