"""GraphQL types of the period KPIs: each KPI with its previous-period value and the change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from crm_graph.graphql.dates import Granularity
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.services.analytics.period import PeriodKpis, SeriesPoint, change, iso_duration
from crm_graph.services.dates import ResolvedRange

_CHANGE = "value − previous; null when either is null."
_RELATIVE = "(value − previous) / previous, rounded to 4 places; null when previous is 0 or null."


@strawberry.type(name="PeriodRange", description="The local days a figure is about (both inclusive).")
class PeriodRangeType:
    from_: date = strawberry.field(name="from", description="First local day (inclusive).")
    to: date = strawberry.field(description="Last local day (inclusive).")
    days: int = strawberry.field(description="Number of local days.")

    @classmethod
    def from_model(cls, r: ResolvedRange) -> PeriodRangeType:
        """The GraphQL view of a resolved range."""
        return cls(from_=r.first_day, to=r.last_day, days=r.days)


@strawberry.type(name="PeriodCount", description="A count in the range, in the previous period, and the change.")
class PeriodCountType:
    value: int = strawberry.field(description="In the range asked about.")
    previous: int = strawberry.field(description="In the previous period of the same length, just before.")
    change: int = strawberry.field(description=_CHANGE)
    relative_change: float | None = strawberry.field(description=_RELATIVE)

    @classmethod
    def of(cls, value: int, previous: int) -> PeriodCountType:
        absolute, relative = change(value, previous)
        return cls(value=value, previous=previous, change=absolute, relative_change=relative)


@strawberry.type(
    name="PeriodDecimal",
    description="An amount (money in the store currency, or an average) in the range and the previous period.",
)
class PeriodDecimalType:
    value: Decimal | None = strawberry.field(description="In the range asked about; null when undefined (÷ 0).")
    previous: Decimal | None = strawberry.field(description="In the previous period; null when undefined.")
    change: Decimal | None = strawberry.field(description=_CHANGE)
    relative_change: float | None = strawberry.field(description=_RELATIVE)

    @classmethod
    def of(cls, value: Decimal | None, previous: Decimal | None) -> PeriodDecimalType:
        absolute, relative = change(value, previous)
        return cls(value=value, previous=previous, change=absolute, relative_change=relative)


@strawberry.type(name="PeriodShare", description="A share between 0 and 1 (4 places) in the range and the previous period.")
class PeriodShareType:
    value: float | None = strawberry.field(description="In the range asked about; null when undefined (÷ 0).")
    previous: float | None = strawberry.field(description="In the previous period; null when undefined.")
    change: float | None = strawberry.field(description=_CHANGE)
    relative_change: float | None = strawberry.field(description=_RELATIVE)

    @classmethod
    def of(cls, value: Decimal | None, previous: Decimal | None) -> PeriodShareType:
        absolute, relative = change(value, previous)
        return cls(value=None if value is None else float(value),
                   previous=None if previous is None else float(previous),
                   change=None if absolute is None else float(absolute), relative_change=relative)


@strawberry.type(name="PeriodDuration", description="A duration in the range and the previous period.")
class PeriodDurationType:
    seconds: int | None = strawberry.field(description="In whole seconds; null when undefined.")
    iso: str | None = strawberry.field(description="As an ISO 8601 duration, e.g. `P7DT18H`; null when undefined.")
    previous_seconds: int | None = strawberry.field(description="In the previous period, in seconds.")
    previous_iso: str | None = strawberry.field(description="In the previous period, as an ISO 8601 duration.")
    change_seconds: int | None = strawberry.field(description="seconds − previousSeconds; null when either is null.")
    relative_change: float | None = strawberry.field(description=_RELATIVE)

    @classmethod
    def of(cls, seconds: int | None, previous: int | None) -> PeriodDurationType:
        absolute, relative = change(seconds, previous)
        return cls(seconds=seconds, iso=iso_duration(seconds), previous_seconds=previous,
                   previous_iso=iso_duration(previous), change_seconds=absolute, relative_change=relative)


@strawberry.type(name="PeriodPoint", description="One period of the time series of the range.")
class PeriodPointType:
    label: str = strawberry.field(description="The period: `2026-03-29`, `2026-W13`, `2026-03` or `2026`.")
    from_: date = strawberry.field(name="from", description="First local day of the period inside the range.")
    to: date = strawberry.field(description="Last local day of the period inside the range.")
    customers: int = strawberry.field(
        description="Unique customers with a counted order placed in the period (a customer counts in every period they bought in)."
    )
    new_customers: int = strawberry.field(description="Customers whose first counted order ever was placed in the period.")
    revenue: Decimal = strawberry.field(
        description="Net revenue of the counted orders placed in the period: totals minus their refunds issued by the end of the range."
    )
    orders: int = strawberry.field(description="Counted orders placed in the period.")

    @classmethod
    def from_model(cls, point: SeriesPoint) -> PeriodPointType:
        return cls(label=point.bucket.label, from_=point.bucket.first_day, to=point.bucket.last_day,
                   customers=point.customers, new_customers=point.new_customers, revenue=point.revenue,
                   orders=point.orders)


@strawberry.type(
    name="PeriodKpis",
    description=(
        "Putler's customer KPIs of a range compared with the previous period of the same length "
        "immediately before it. Customers are the store's (not erased) customers; orders without a "
        "customer are only in `unattributedOrders` / `unattributedRevenue`."
    ),
)
class PeriodKpisType:
    range: PeriodRangeType = strawberry.field(description="The range asked about.")
    previous_range: PeriodRangeType = strawberry.field(description="The previous period it is compared with.")
    granularity: Granularity = strawberry.field(description="Granularity of `series`.")
    customers: PeriodCountType = strawberry.field(description="Unique customers with a counted order placed in the period.")
    new_customers: PeriodCountType = strawberry.field(
        description="Customers whose first counted order ever was placed in the period."
    )
    returning_customers: PeriodCountType = strawberry.field(
        description="Customers with a counted order in the period and one before it (customers = new + returning)."
    )
    lost_customers: PeriodCountType = strawberry.field(
        description=(
            "Customers who placed orders in the period (PAID, COMPLETED, REFUNDED or CANCELLED) and all of "
            "them were cancelled or refunded (status REFUNDED, or refunds issued by the end of the period of "
            "at least the order total)."
        )
    )
    lost_share: PeriodShareType = strawberry.field(
        description="lostCustomers / customers who placed orders (PAID, COMPLETED, REFUNDED or CANCELLED) in the period."
    )
    net_revenue: PeriodDecimalType = strawberry.field(
        description="Totals of the counted orders placed in the period minus their refunds issued by its end."
    )
    orders: PeriodCountType = strawberry.field(description="Counted orders (PAID, COMPLETED, REFUNDED) placed in the period.")
    average_revenue_per_customer: PeriodDecimalType = strawberry.field(
        description="netRevenue / customers, rounded half-up to 2 places; null without customers."
    )
    orders_per_customer: PeriodDecimalType = strawberry.field(
        description="orders / customers, rounded half-up to 2 places; null without customers."
    )
    average_order_value: PeriodDecimalType = strawberry.field(
        description="netRevenue / orders, rounded half-up to 2 places; null without orders."
    )
    spenders: PeriodCountType = strawberry.field(
        description="Customers with a counted order placed before the end of the period (all history)."
    )
    average_ltv: PeriodDecimalType = strawberry.field(
        description=(
            "Lifetime net revenue per spender as of the end of the period: counted orders placed by then "
            "minus their refunds issued by then, ÷ spenders; 2 places; null without spenders."
        )
    )
    acquired_per_day: PeriodDecimalType = strawberry.field(
        description="newCustomers / days of the period, rounded half-up to 2 places."
    )
    new_customer_every: PeriodDurationType = strawberry.field(
        description="How often a new customer came: days of the period × 86,400 s / newCustomers; null without new customers."
    )
    top_customers: PeriodCountType = strawberry.field(
        description="The top 20% of customers by net revenue in the period: ceil(customers / 5) of them."
    )
    top_customers_revenue: PeriodDecimalType = strawberry.field(description="Net revenue of the top 20% of customers.")
    top_customers_share: PeriodShareType = strawberry.field(
        description="topCustomersRevenue / netRevenue (4 places); null when net revenue is not positive."
    )
    one_time_buyers: PeriodCountType = strawberry.field(description="Customers with exactly 1 counted order in the period.")
    repeat_buyers: PeriodCountType = strawberry.field(description="Customers with 2 or more counted orders in the period.")
    unattributed_orders: PeriodCountType = strawberry.field(
        description="Counted orders placed in the period without a customer (guests that could not be matched)."
    )
    unattributed_revenue: PeriodDecimalType = strawberry.field(
        description="Net revenue of the orders without a customer; not part of netRevenue."
    )
    series: list[PeriodPointType] = strawberry.field(
        description="The range cut into periods of `granularity`: customers, new customers, revenue and orders of each."
    )
    freshness: FreshnessType = strawberry.field(description="When the KPIs were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, kpis: PeriodKpis, freshness: FreshnessType) -> PeriodKpisType:
        """The GraphQL view of the service's result."""
        now, before = kpis.current, kpis.previous

        def count(name: str) -> PeriodCountType:
            return PeriodCountType.of(getattr(now, name), getattr(before, name))

        def amount(name: str) -> PeriodDecimalType:
            return PeriodDecimalType.of(getattr(now, name), getattr(before, name))

        def share(name: str) -> PeriodShareType:
            return PeriodShareType.of(getattr(now, name), getattr(before, name))

        return cls(
            range=PeriodRangeType.from_model(now.range),
            previous_range=PeriodRangeType.from_model(before.range),
            granularity=kpis.granularity,
            customers=count("customers"), new_customers=count("new_customers"),
            returning_customers=count("returning_customers"), lost_customers=count("lost_customers"),
            lost_share=share("lost_share"), net_revenue=amount("net_revenue"), orders=count("orders"),
            average_revenue_per_customer=amount("average_revenue_per_customer"),
            orders_per_customer=amount("orders_per_customer"), average_order_value=amount("average_order_value"),
            spenders=count("spenders"), average_ltv=amount("average_ltv"),
            acquired_per_day=amount("acquired_per_day"),
            new_customer_every=PeriodDurationType.of(now.new_customer_every_seconds,
                                                     before.new_customer_every_seconds),
            top_customers=count("top_customers"), top_customers_revenue=amount("top_customers_revenue"),
            top_customers_share=share("top_customers_share"), one_time_buyers=count("one_time_buyers"),
            repeat_buyers=count("repeat_buyers"), unattributed_orders=count("unattributed_orders"),
            unattributed_revenue=amount("unattributed_revenue"),
            series=[PeriodPointType.from_model(point) for point in kpis.series],
            freshness=freshness,
        )


