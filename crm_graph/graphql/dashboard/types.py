"""GraphQL types of the dashboard widgets; each description states the metric's definition."""

from __future__ import annotations

from datetime import date

import strawberry

from crm_graph.graphql.enums import Channel, ConsentBucket, Gender
from crm_graph.graphql.freshness import FRESHNESS_DESCRIPTION, FreshnessType
from crm_graph.graphql.values import ComparisonType, MoneyType, optional_money, relative_change
from crm_graph.services.analytics import consent, customers, spenders, tags
from crm_graph.services.dates import MAX_POINTS

@strawberry.type(name="Tag", description="A label the store puts on customers.")
class TagType:
    name: str = strawberry.field(description="The tag's name, unique in the store.")

@strawberry.type(
    name="ConsentKpi",
    description=(
        "A consent KPI card: customers of a channel in a bucket at the end of the range's last day, compared "
        "with the end of the day 30 days earlier. A customer's state is its latest consent event before the "
        "end of the day (same instant: the last recorded); no event is UNKNOWN; erased customers never count."
    ),
)
class ConsentKpiType(ComparisonType):
    channel: Channel = strawberry.field(description="EMAIL or SMS.")
    bucket: ConsentBucket = strawberry.field(description="SUBSCRIBED, UNSUBSCRIBED or UNKNOWN.")
    day: date = strawberry.field(description="The day whose end is counted: the range's last day.")
    compared_day: date = strawberry.field(description="The day compared with: 30 days before `day`.")
    value: int = strawberry.field(description="Customers in the bucket at the end of `day`.")
    previous: int = strawberry.field(description="Customers in the bucket at the end of `comparedDay`.")
    change: int = strawberry.field(description="value − previous.")

    @classmethod
    def from_model(cls, kpi: consent.ConsentKpi) -> ConsentKpiType:
        """The GraphQL view of a KPI card."""
        value, previous = kpi.change.value, kpi.change.previous
        return cls(channel=kpi.channel, bucket=kpi.bucket, day=kpi.day, compared_day=kpi.compared_day,
                   value=value, previous=previous, change=value - previous,
                   relative_change=relative_change(value, previous))

@strawberry.type(
    name="SubscriptionPoint",
    description="Customers per consent bucket of one channel as of the end of one period of the series.",
)
class SubscriptionPointType:
    channel: Channel = strawberry.field(description="EMAIL or SMS.")
    label: str = strawberry.field(description="The period: 2026-03-29, 2026-W13, 2026-03 or 2026.")
    from_: date = strawberry.field(name="from", description="First day of the period inside the range.")
    to: date = strawberry.field(description="Last day of the period inside the range; counts are as of its end.")
    subscribed: int = strawberry.field(description="Customers whose latest event is SUBSCRIBED.")
    unsubscribed: int = strawberry.field(description="Customers whose latest event is UNSUBSCRIBED or INVALID.")
    unknown: int = strawberry.field(
        description="Customers without an event, or whose latest is NOT_SUBSCRIBED, PENDING or REDACTED."
    )
    customers: int = strawberry.field(description="All customers at the end of the period (the three buckets).")

    @classmethod
    def from_model(cls, p: consent.SubscriptionPoint) -> SubscriptionPointType:
        """The GraphQL view of a point."""
        return cls(channel=p.channel, label=p.label, from_=p.first_day, to=p.last_day, subscribed=p.subscribed,
                   unsubscribed=p.unsubscribed, unknown=p.unknown,
                   customers=p.subscribed + p.unsubscribed + p.unknown)

@strawberry.type(
    name="GenderConsentRow",
    description="Customers of one gender per consent bucket of one channel at the end of the range's last day "
    "(the customer's current gender; its history is not kept).",
)
class GenderConsentRowType:
    channel: Channel = strawberry.field(description="EMAIL or SMS.")
    gender: Gender = strawberry.field(description="FEMALE, MALE, OTHER, UNKNOWN (never given) or REFUSED.")
    subscribed: int = strawberry.field(description="Customers of this gender in SUBSCRIBED.")
    unsubscribed: int = strawberry.field(description="Customers of this gender in UNSUBSCRIBED.")
    unknown: int = strawberry.field(description="Customers of this gender in UNKNOWN.")

    @classmethod
    def from_model(cls, row: consent.GenderConsentRow) -> GenderConsentRowType:
        """The GraphQL view of a row."""
        return cls(channel=row.channel, gender=row.gender, subscribed=row.subscribed,
                   unsubscribed=row.unsubscribed, unknown=row.unknown)

@strawberry.type(
    name="IdentifiedPoint",
    description="Identified and unidentified customers as of the end of one period. Identified = has an email, "
    "a phone or a store account (current values, counted from the customer's creation).",
)
class IdentifiedPointType:
    label: str = strawberry.field(description="The period: 2026-03-29, 2026-W13, 2026-03 or 2026.")
    from_: date = strawberry.field(name="from", description="First day of the period inside the range.")
    to: date = strawberry.field(description="Last day of the period inside the range; counts are as of its end.")
    identified: int = strawberry.field(description="Identified customers created before the end of the period.")
    unidentified: int = strawberry.field(description="Anonymous visitors created before the end of the period.")
    customers: int = strawberry.field(description="identified + unidentified.")

@strawberry.type(name="IdentifiedSeries", description="Identified vs unidentified over time, and the totals at the end of the range.")
class IdentifiedSeriesType:
    points: list[IdentifiedPointType] = strawberry.field(
        description=f"One point per period of the granularity (at most {MAX_POINTS:,})."
    )
    customers: int = strawberry.field(description="All customers (not erased) at the end of the range's last day.")
    identified: int = strawberry.field(description="Identified customers at the end of the range's last day.")
    unidentified: int = strawberry.field(description="Unidentified customers at the end of the range's last day.")
    freshness: FreshnessType = strawberry.field(description=FRESHNESS_DESCRIPTION)

    @classmethod
    def from_model(cls, s: customers.IdentifiedSeries, freshness: FreshnessType) -> IdentifiedSeriesType:
        """The GraphQL view of the series."""
        return cls(
            points=[IdentifiedPointType(label=p.label, from_=p.first_day, to=p.last_day, identified=p.identified,
                                        unidentified=p.unidentified, customers=p.customers) for p in s.points],
            customers=s.customers, identified=s.identified, unidentified=s.customers - s.identified,
            freshness=freshness,
        )

@strawberry.type(
    name="SpendersProspects",
    description="At the end of the range's last day: spenders (at least one counted order, i.e. PAID, COMPLETED "
    "or REFUNDED, placed by then) and prospects (none); they add up to all customers.",
)
class SpendersProspectsType:
    day: date = strawberry.field(description="The day whose end is counted.")
    spenders: int = strawberry.field(description="Customers with a counted order placed by the end of the day.")
    prospects: int = strawberry.field(description="Customers without one.")
    customers: int = strawberry.field(description="spenders + prospects = all customers.")
    freshness: FreshnessType = strawberry.field(description=FRESHNESS_DESCRIPTION)

    @classmethod
    def from_model(cls, s: customers.SpendersProspects, freshness: FreshnessType) -> SpendersProspectsType:
        """The GraphQL view."""
        return cls(day=s.day, spenders=s.spenders, prospects=s.prospects, customers=s.customers,
                   freshness=freshness)

@strawberry.type(
    name="ActivityBuckets",
    description="Customers by their last activity (event, order or recorded last activity) before the end of the "
    "range's last day D: ACTIVE 0..activeDays days before D, LOW_RISK up to lowRiskDays, HIGH_RISK older or never.",
)
class ActivityBucketsType:
    day: date = strawberry.field(description="The day D whose end is counted.")
    active: int = strawberry.field(description="Last activity 0..activeDays local days before D.")
    low_risk: int = strawberry.field(description="Last activity activeDays+1..lowRiskDays local days before D.")
    high_risk: int = strawberry.field(description="Last activity more than lowRiskDays days before D, or never.")
    customers: int = strawberry.field(description="active + lowRisk + highRisk = all customers.")
    active_days: int = strawberry.field(description="The store's ACTIVE window in days (setting, default 7).")
    low_risk_days: int = strawberry.field(description="The store's LOW_RISK window in days (setting, default 30).")
    freshness: FreshnessType = strawberry.field(description=FRESHNESS_DESCRIPTION)

    @classmethod
    def from_model(cls, a: customers.ActivityBuckets, freshness: FreshnessType) -> ActivityBucketsType:
        """The GraphQL view."""
        return cls(day=a.day, active=a.active, low_risk=a.low_risk, high_risk=a.high_risk, customers=a.customers,
                   active_days=a.active_days, low_risk_days=a.low_risk_days, freshness=freshness)

@strawberry.type(
    name="SpenderSegments",
    description="Spenders by value and by frequency over all history up to the end of the range's last day. "
    "Value = lifetime net revenue (counted orders minus refunds issued by then); frequency = counted orders.",
)
class SpenderSegmentsType:
    day: date = strawberry.field(description="The day whose end is counted.")
    spenders: int = strawberry.field(description="Customers with at least one counted order.")
    low_percentile: float = strawberry.field(description="The store's low value percentile (default 50).")
    high_percentile: float = strawberry.field(description="The store's high value percentile (default 80).")
    value_low_threshold: MoneyType | None = strawberry.field(
        description="lowPercentile of spenders' net revenue in the store currency, interpolated linearly like "
        "percentile_cont and rounded up to the cent; null without spenders."
    )
    value_high_threshold: MoneyType | None = strawberry.field(
        description="highPercentile of spenders' net revenue in the store currency, like valueLowThreshold."
    )
    frequent_threshold: int = strawberry.field(
        description="Mean order count of customers with 2+ orders, rounded up, at least the store's minimum (3)."
    )
    small: int = strawberry.field(description="SMALL: net revenue below valueLowThreshold.")
    medium: int = strawberry.field(description="MEDIUM: from valueLowThreshold to below valueHighThreshold.")
    big: int = strawberry.field(description="BIG: from valueHighThreshold (a value equal to it included).")
    one_time: int = strawberry.field(description="ONE_TIME: exactly 1 counted order.")
    repeat: int = strawberry.field(description="REPEAT: 2 or more counted orders, below frequentThreshold.")
    frequent: int = strawberry.field(description="FREQUENT: at least frequentThreshold counted orders.")
    freshness: FreshnessType = strawberry.field(description=FRESHNESS_DESCRIPTION)

    @classmethod
    def from_model(cls, s: spenders.SpenderSegments, freshness: FreshnessType, currency: str) -> SpenderSegmentsType:
        """The GraphQL view; the thresholds are in `currency` (the store's)."""
        return cls(day=s.day, spenders=s.spenders, low_percentile=s.low_percentile,
                   high_percentile=s.high_percentile, value_low_threshold=optional_money(s.value_low, currency),
                   value_high_threshold=optional_money(s.value_high, currency), frequent_threshold=s.frequent_threshold, small=s.small,
                   medium=s.medium, big=s.big, one_time=s.one_time, repeat=s.repeat, frequent=s.frequent,
                   freshness=freshness)

@strawberry.type(name="TagCount", description="A tag and the customers carrying it at the end of the store's today.")
class TagCountType:
    tag: TagType = strawberry.field(description="The tag.")
    customers: int = strawberry.field(description="Customers (not erased) carrying the tag, each counted once.")

    @classmethod
    def from_model(cls, t: tags.TagCount) -> TagCountType:
        """The GraphQL view."""
        return cls(tag=TagType(name=t.name), customers=t.customers)
