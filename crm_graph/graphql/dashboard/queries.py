"""The `dashboard` root field and its widget fields (SPEC §4 A–H).

`dashboard(range, preset)` validates the range once; each widget field is one service call run in a
worker thread (`info.context.run`), so the widgets of one request are computed concurrently.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.dashboard.types import (
    ActivityBucketsType,
    ConsentKpiType,
    GenderConsentRowType,
    IdentifiedSeriesType,
    SpenderSegmentsType,
    SpendersProspectsType,
    SubscriptionPointType,
    TagCountType,
)
from crm_graph.graphql.dates import (
    GRANULARITY_DESCRIPTION,
    PRESET_DESCRIPTION,
    RANGE_DESCRIPTION,
    DatePreset,
    DateRangeInput,
    Granularity,
    resolve_range_arguments,
)
from crm_graph.graphql.enums import Channel
from crm_graph.models.enums import Channel as ChannelEnum
from crm_graph.services.analytics import consent, customers, spenders, tags
from crm_graph.services.dates import ResolvedRange, kpi_comparison_day

CHANNEL_DESCRIPTION = "Only this channel; both when omitted."


def _channels(channel: ChannelEnum | None) -> tuple[ChannelEnum, ...]:
    return consent.CHANNELS if channel is None else (ChannelEnum(channel),)


@strawberry.type(
    name="Dashboard",
    description="The edrone CRM dashboard for one date range of local days; every widget is a field.",
)
class DashboardType:
    resolved: strawberry.Private[ResolvedRange]

    @strawberry.field(name="from", description="First local day of the range.")
    def from_(self) -> date:
        return self.resolved.first_day

    @strawberry.field(description="Last local day of the range; \"as of the end of the range\" means the end of this day.")
    def to(self) -> date:
        return self.resolved.last_day

    @strawberry.field(description="The preset the range came from; null for an explicit range.")
    def preset(self) -> DatePreset | None:
        return self.resolved.preset

    @strawberry.field(description="The day KPI cards compare with: 30 days before `to`.")
    def comparison_day(self) -> date:
        return kpi_comparison_day(self.resolved)

    @strawberry.field(description="A. Consent KPI cards: EMAIL and SMS × SUBSCRIBED/UNSUBSCRIBED/UNKNOWN.")
    async def consent_kpis(self, info: Info) -> list[ConsentKpiType]:
        rows = await info.context.run(consent.consent_kpis, self.resolved)
        return [ConsentKpiType.from_service(row) for row in rows]

    @strawberry.field(description="B. Subscriptions over time: per channel and period, customers per bucket as of the period's end.")
    async def subscriptions(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[SubscriptionPointType]:
        rows = await info.context.run(consent.subscriptions_over_time, self.resolved, granularity, _channels(channel))
        return [SubscriptionPointType.from_service(row) for row in rows]

    @strawberry.field(description="C. Subscription × gender at the end of the range: per channel, gender × bucket.")
    async def subscriptions_by_gender(
        self, info: Info,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[GenderConsentRowType]:
        rows = await info.context.run(consent.consent_by_gender, self.resolved, _channels(channel))
        return [GenderConsentRowType.from_service(row) for row in rows]

    @strawberry.field(description="D. Identified vs unidentified customers as of the end of each period, and the totals.")
    async def identified(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
    ) -> IdentifiedSeriesType:
        series = await info.context.run(customers.identified_over_time, self.resolved, granularity)
        return IdentifiedSeriesType.from_service(series)

    @strawberry.field(description="E. Spenders vs prospects at the end of the range.")
    async def spenders_prospects(self, info: Info) -> SpendersProspectsType:
        return SpendersProspectsType.from_service(await info.context.run(customers.spenders_prospects, self.resolved))

    @strawberry.field(description="F. Activity buckets at the end of the range, with the store's windows.")
    async def activity(self, info: Info) -> ActivityBucketsType:
        return ActivityBucketsType.from_service(await info.context.run(customers.activity_buckets, self.resolved))

    @strawberry.field(description="G. Spender segments by value and by frequency, with their thresholds.")
    async def spender_segments(self, info: Info) -> SpenderSegmentsType:
        return SpenderSegmentsType.from_service(await info.context.run(spenders.spender_segments, self.resolved))

    @strawberry.field(description="H. The 10 tags on the most customers today (ties by name); ignores the range.")
    async def top_tags(self, info: Info) -> list[TagCountType]:
        rows = await info.context.run(tags.top_tags)
        return [TagCountType.from_service(row) for row in rows]


@strawberry.type
class DashboardQuery:
    @strawberry.field(description="The edrone CRM dashboard for a range or a preset (default LAST_30_DAYS).")
    def dashboard(
        self, info: Info,
        date_range: Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)] = None,
        preset: Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)] = None,
    ) -> DashboardType:
        store = info.context.require()
        return DashboardType(resolved=resolve_range_arguments(store, date_range, preset))
