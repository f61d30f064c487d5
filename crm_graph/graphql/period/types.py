"""GraphQL types of the period KPIs: each KPI a `Comparison` with the previous period of the same length."""

from __future__ import annotations

from datetime import date

import strawberry

from crm_graph.graphql.dates import Granularity
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.graphql.values import (
    CountComparisonType,
    DecimalComparisonType,
    DurationComparisonType,
    MoneyComparisonType,
    MoneyType,
    ShareComparisonType,
    money,
)
from crm_graph.services.analytics.period import PeriodKpis, SeriesPoint
from crm_graph.services.dates import MAX_POINTS, ResolvedRange


@strawberry.type(name="PeriodRange", description="The local days a figure is about (both inclusive).")
class PeriodRangeType:
    from_: date = strawberry.field(name="from", description="First local day (inclusive).")
    to: date = strawberry.field(description="Last local day (inclusive).")
    days: int = strawberry.field(description="Number of local days.")

    @classmethod
    def from_model(cls, r: ResolvedRange) -> PeriodRangeType:
        """The GraphQL view of a resolved range."""
        return cls(from_=r.first_day, to=r.last_day, days=r.days)


@strawberry.type(name="PeriodPoint", description="One period of the time series of the range.")
class PeriodPointType:
    label: str = strawberry.field(description="The period: `2026-03-29`, `2026-W13`, `2026-03` or `2026`.")
    from_: date = strawberry.field(name="from", description="First local day of the period inside the range.")
    to: date = strawberry.field(description="Last local day of the period inside the range.")
    customers: int = strawberry.field(
        description="Unique customers with a counted order placed in the period (a customer counts in every period they bought in)."
    )
    new_customers: int = strawberry.field(description="Customers whose first counted order ever was placed in the period.")
    revenue: MoneyType = strawberry.field(
        description="Net revenue of the counted orders placed in the period, in the store currency: totals minus "
        "their refunds issued by the end of the range."
    )
    orders: int = strawberry.field(description="Counted orders placed in the period.")

    @classmethod
    def from_model(cls, point: SeriesPoint, currency: str) -> PeriodPointType:
        """The GraphQL view of a point; its revenue is in `currency` (the store's)."""
        return cls(label=point.bucket.label, from_=point.bucket.first_day, to=point.bucket.last_day,
                   customers=point.customers, new_customers=point.new_customers,
                   revenue=money(point.revenue, currency), orders=point.orders)


@strawberry.type(
    name="PeriodKpis",
    description=(
        "Putler's customer KPIs of a range compared with the previous period of the same length "
        "immediately before it. Customers are the store's (not erased) customers; orders without a "
        "customer are only in `unattributedOrders` / `unattributedRevenue`. Money is in the store currency."
    ),
)
class PeriodKpisType:
    range: PeriodRangeType = strawberry.field(description="The range asked about.")
    previous_range: PeriodRangeType = strawberry.field(description="The previous period it is compared with.")
    granularity: Granularity = strawberry.field(description="Granularity of `series`.")
    customers: CountComparisonType = strawberry.field(description="Unique customers with a counted order placed in the period.")
    new_customers: CountComparisonType = strawberry.field(
        description="Customers whose first counted order ever was placed in the period."
    )
    returning_customers: CountComparisonType = strawberry.field(
        description="Customers with a counted order in the period and one before it (customers = new + returning)."
    )
    lost_customers: CountComparisonType = strawberry.field(
        description=(
            "Customers who placed orders in the period (PAID, COMPLETED, REFUNDED or CANCELLED) and all of "
            "them were cancelled or refunded (status REFUNDED, or refunds issued by the end of the period of "
            "at least the order total)."
        )
    )
    lost_share: ShareComparisonType = strawberry.field(
        description="lostCustomers / customers who placed orders (PAID, COMPLETED, REFUNDED or CANCELLED) in the period."
    )
    net_revenue: MoneyComparisonType = strawberry.field(
        description="Totals of the counted orders placed in the period minus their refunds issued by its end."
    )
    orders: CountComparisonType = strawberry.field(description="Counted orders (PAID, COMPLETED, REFUNDED) placed in the period.")
    average_revenue_per_customer: MoneyComparisonType = strawberry.field(
        description="netRevenue / customers, rounded half-up to 2 places; null without customers."
    )
    orders_per_customer: DecimalComparisonType = strawberry.field(
        description="orders / customers, rounded half-up to 2 places; null without customers."
    )
    average_order_value: MoneyComparisonType = strawberry.field(
        description="netRevenue / orders, rounded half-up to 2 places; null without orders."
    )
    spenders: CountComparisonType = strawberry.field(
        description="Customers with a counted order placed before the end of the period (all history)."
    )
    average_ltv: MoneyComparisonType = strawberry.field(
        description=(
            "Lifetime net revenue per spender as of the end of the period: counted orders placed by then "
            "minus their refunds issued by then, ÷ spenders; 2 places; null without spenders."
        )
    )
    acquired_per_day: DecimalComparisonType = strawberry.field(
        description="newCustomers / days of the period, rounded half-up to 2 places."
    )
    new_customer_every: DurationComparisonType = strawberry.field(
        description="How often a new customer came: days of the period × 86,400 s / newCustomers; null without new customers."
    )
    top_customers: CountComparisonType = strawberry.field(
        description="The top 20% of customers by net revenue in the period: ceil(customers / 5) of them."
    )
    top_customers_revenue: MoneyComparisonType = strawberry.field(description="Net revenue of the top 20% of customers.")
    top_customers_share: ShareComparisonType = strawberry.field(
        description="topCustomersRevenue / netRevenue (4 places); null when net revenue is not positive."
    )
    one_time_buyers: CountComparisonType = strawberry.field(description="Customers with exactly 1 counted order in the period.")
    repeat_buyers: CountComparisonType = strawberry.field(description="Customers with 2 or more counted orders in the period.")
    unattributed_orders: CountComparisonType = strawberry.field(
        description="Counted orders placed in the period without a customer (guests that could not be matched)."
    )
    unattributed_revenue: MoneyComparisonType = strawberry.field(
        description="Net revenue of the orders without a customer; not part of netRevenue."
    )
    series: list[PeriodPointType] = strawberry.field(
        description="The range cut into periods of `granularity`: customers, new customers, revenue and orders of "
        f"each; one point per period (at most {MAX_POINTS:,})."
    )
    freshness: FreshnessType = strawberry.field(description="When the KPIs were computed: always LIVE, as of this request.")

    @classmethod
    def from_model(cls, kpis: PeriodKpis, freshness: FreshnessType, currency: str) -> PeriodKpisType:
        """The GraphQL view of the service's result; money is in `currency` (the store's)."""
        now, before = kpis.current, kpis.previous

        def count(name: str) -> CountComparisonType:
            return CountComparisonType.of(getattr(now, name), getattr(before, name))

        def amount(name: str) -> DecimalComparisonType:
            return DecimalComparisonType.of(getattr(now, name), getattr(before, name))

        def cash(name: str) -> MoneyComparisonType:
            return MoneyComparisonType.of(getattr(now, name), getattr(before, name), currency)

        def share(name: str) -> ShareComparisonType:
            return ShareComparisonType.of(getattr(now, name), getattr(before, name))

        return cls(
            range=PeriodRangeType.from_model(now.range),
            previous_range=PeriodRangeType.from_model(before.range),
            granularity=kpis.granularity,
            customers=count("customers"), new_customers=count("new_customers"),
            returning_customers=count("returning_customers"), lost_customers=count("lost_customers"),
            lost_share=share("lost_share"), net_revenue=cash("net_revenue"), orders=count("orders"),
            average_revenue_per_customer=cash("average_revenue_per_customer"),
            orders_per_customer=amount("orders_per_customer"), average_order_value=cash("average_order_value"),
            spenders=count("spenders"), average_ltv=cash("average_ltv"),
            acquired_per_day=amount("acquired_per_day"),
            new_customer_every=DurationComparisonType.of(now.new_customer_every_seconds,
                                                         before.new_customer_every_seconds),
            top_customers=count("top_customers"), top_customers_revenue=cash("top_customers_revenue"),
            top_customers_share=share("top_customers_share"), one_time_buyers=count("one_time_buyers"),
            repeat_buyers=count("repeat_buyers"), unattributed_orders=count("unattributed_orders"),
            unattributed_revenue=cash("unattributed_revenue"),
            series=[PeriodPointType.from_model(point, currency) for point in kpis.series],
            freshness=freshness,
        )


