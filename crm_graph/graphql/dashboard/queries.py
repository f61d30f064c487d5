"""The `dashboard` root field and its widget fields (SPEC §4 A–H).

`dashboard(range, preset)` validates the range once; each widget field is one service call run in a
worker thread (`info.context.run`), so the widgets of one request are computed concurrently.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.types.nodes import SelectedField

from crm_graph.graphql.cost import field_cost, range_cost
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
from crm_graph.errors import UserError
from crm_graph.services.analytics.daily import settings_key
from crm_graph.services.dates import ResolvedRange, buckets, kpi_comparison_day, store_today

CHANNEL_DESCRIPTION = "Only this channel; both when omitted."


def _channels(channel: ChannelEnum | None) -> tuple[ChannelEnum, ...]:
    return consent.CHANNELS if channel is None else (ChannelEnum(channel),)


def _with_settings(info: Info, name: str) -> tuple[str, str]:
    """A cache key part for a widget whose figures depend on the store's analytics settings."""
    return name, settings_key(info.context.require().analytics_settings)


def _planned_days(info: Info, r: ResolvedRange, series_field: str, days: set[date]) -> frozenset[date]:
    """`days` plus the last day of every period of every `series_field` series the request asks for.

    Read from the request's selection (with its variables), so that the widgets that need counts of
    the same kind (consent: A, B, C; customers: D, E) share one computation.
    """
    days = set(days)

    def walk(selections: list[Any]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == series_field:
                    try:
                        days.update(p.last_day for p in buckets(r, selection.arguments.get("granularity", "DAY")))
                    except UserError:
                        pass  # the field itself reports the error
            else:
                walk(selection.selections)

    for field in info.selected_fields:
        walk(field.selections)
    return frozenset(days)


@strawberry.type(
    name="Dashboard",
    description="The edrone CRM dashboard for one date range of local days; every widget is a field.",
)
class DashboardType:
    resolved: strawberry.Private[ResolvedRange]
    consent_days: strawberry.Private[frozenset[date]]
    customer_days: strawberry.Private[frozenset[date]]
    shared: strawberry.Private[dict[str, asyncio.Future]]

    async def _once(self, info: Info, key: str, planned: frozenset[date], days: list[date], fn, **kwargs) -> dict:
        """`fn(session, store, sorted(planned))` run once per request and shared by the widgets that need it
        (and reused by the requests of the next seconds, see `result_cache`)."""
        if not set(days) <= planned:  # not planned (cannot happen with a parsed selection)
            return await info.context.run(fn, days, **kwargs)
        if key not in self.shared:
            self.shared[key] = asyncio.ensure_future(info.context.cached(key, fn, tuple(sorted(planned)), **kwargs))
        return await self.shared[key]

    async def _consent_counts(self, info: Info, days: list[date]) -> dict:
        """Consent counts by gender for `days`, computed once per request for all consent widgets."""
        return await self._once(info, "consent", self.consent_days, days, consent.consent_counts_for_days,
                                by_gender=True)

    async def _customer_counts(self, info: Info, days: list[date]) -> dict:
        """Customer counts for `days`, computed once per request for the identified and spender widgets."""
        return await self._once(info, "customers", self.customer_days, days, customers.customer_counts_for_days)

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

    @strawberry.field(description="A. Consent KPI cards: EMAIL and SMS × SUBSCRIBED/UNSUBSCRIBED/UNKNOWN. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def consent_kpis(self, info: Info) -> list[ConsentKpiType]:
        r = self.resolved
        counts = await self._consent_counts(info, [r.last_day, kpi_comparison_day(r)])
        return [ConsentKpiType.from_service(row) for row in consent.kpis_from_counts(counts, r)]

    @strawberry.field(description="B. Subscriptions over time: per channel and period, customers per bucket as of the period's end. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def subscriptions(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[SubscriptionPointType]:
        periods = buckets(self.resolved, granularity)
        counts = await self._consent_counts(info, [p.last_day for p in periods])
        rows = consent.series_from_counts(counts, periods, _channels(channel))
        return [SubscriptionPointType.from_service(row) for row in rows]

    @strawberry.field(description="C. Subscription × gender at the end of the range: per channel, gender × bucket. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def subscriptions_by_gender(
        self, info: Info,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[GenderConsentRowType]:
        day = self.resolved.last_day
        counts = await self._consent_counts(info, [day])
        rows = consent.gender_rows_from_counts(counts[day], _channels(channel))
        return [GenderConsentRowType.from_service(row) for row in rows]

    @strawberry.field(description="D. Identified vs unidentified customers as of the end of each period, and the totals. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def identified(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
    ) -> IdentifiedSeriesType:
        periods = buckets(self.resolved, granularity)
        counts = await self._customer_counts(info, [p.last_day for p in periods])
        return IdentifiedSeriesType.from_service(customers.identified_from_counts(counts, self.resolved, periods))

    @strawberry.field(description="E. Spenders vs prospects at the end of the range. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def spenders_prospects(self, info: Info) -> SpendersProspectsType:
        day = self.resolved.last_day
        counts = await self._customer_counts(info, [day])
        return SpendersProspectsType.from_service(customers.spenders_from_counts(counts, day))

    @strawberry.field(description="F. Activity buckets at the end of the range, with the store's windows. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def activity(self, info: Info) -> ActivityBucketsType:
        return ActivityBucketsType.from_service(
            await info.context.cached(_with_settings(info, "activity"), customers.activity_buckets, self.resolved))

    @strawberry.field(description="G. Spender segments by value and by frequency, with their thresholds. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def spender_segments(self, info: Info) -> SpenderSegmentsType:
        return SpenderSegmentsType.from_service(
            await info.context.cached(_with_settings(info, "spenders"), spenders.spender_segments, self.resolved))

    @strawberry.field(description="H. The 10 tags on the most customers today (ties by name); ignores the range. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def top_tags(self, info: Info) -> list[TagCountType]:
        rows = await info.context.cached(("top_tags", store_today(info.context.require())), tags.top_tags)
        return [TagCountType.from_service(row) for row in rows]


@strawberry.type
class DashboardQuery:
    @strawberry.field(description="The edrone CRM dashboard for a range or a preset (default LAST_30_DAYS). "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30). The widgets share one computation of the range.",
                      metadata=range_cost(20))
    def dashboard(
        self, info: Info,
        date_range: Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)] = None,
        preset: Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)] = None,
    ) -> DashboardType:
        store = info.context.require()
        resolved = resolve_range_arguments(store, date_range, preset)
        return DashboardType(
            resolved=resolved,
            consent_days=_planned_days(info, resolved, "subscriptions", {resolved.last_day, kpi_comparison_day(resolved)}),
            customer_days=_planned_days(info, resolved, "identified", {resolved.last_day}),
            shared={},
        )
