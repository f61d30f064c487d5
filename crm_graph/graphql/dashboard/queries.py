"""The `dashboard` root field and its widget fields (docs/metrics.md, widgets A–H).

`dashboard(range, preset)` validates the range once; each widget field is a view of one analytics
metric answered by the runner in a worker thread (`info.context.answer`), so the widgets of one
request are computed concurrently, and widgets of the same metric share one computation.
Every computation returns its figures with their `Freshness`; `freshness` reports it for the
dashboard or one widget (`DashboardWidget`), and the object widgets carry their own.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Hashable
from datetime import date, datetime
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
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.models.enums import Channel as ChannelEnum
from crm_graph.models.enums import Gender
from crm_graph.models.types import utcnow
from crm_graph.services.analytics import consent, customers
from crm_graph.errors import UserError
from crm_graph.services.analytics.freshness import Fresh, Freshness
from crm_graph.services.analytics.tags import TOP_TAGS
from crm_graph.services.dates import MAX_POINTS, ResolvedRange, buckets, kpi_comparison_day, store_today

CHANNEL_DESCRIPTION = "Only this channel; both when omitted."


def _channels(channel: ChannelEnum | None) -> tuple[ChannelEnum, ...]:
    return consent.CHANNELS if channel is None else (ChannelEnum(channel),)


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


#: The shared computation each widget is read from (widgets of one computation share its freshness).
_COMPUTATION_OF_WIDGET = {
    "consentKpis": "consent", "subscriptions": "consent", "subscriptionsByGender": "consent",
    "identified": "customers", "spendersProspects": "customers", "activity": "activity",
    "spenderSegments": "spenders", "topTags": "top_tags",
}


@strawberry.enum(name="DashboardWidget", description="A widget of the dashboard, to ask for its `freshness`.")
class DashboardWidget(enum.Enum):
    CONSENT_KPIS = "consentKpis"
    SUBSCRIPTIONS = "subscriptions"
    SUBSCRIPTIONS_BY_GENDER = "subscriptionsByGender"
    IDENTIFIED = "identified"
    SPENDERS_PROSPECTS = "spendersProspects"
    ACTIVITY = "activity"
    SPENDER_SEGMENTS = "spenderSegments"
    TOP_TAGS = "topTags"


def _selected_widgets(info: Info) -> frozenset[str]:
    """The dashboard widgets the request selects (through fragments too)."""
    names: set[str] = set()

    def walk(selections: list[Any]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name in _COMPUTATION_OF_WIDGET:
                    names.add(selection.name)
            else:
                walk(selection.selections)

    for field in info.selected_fields:
        walk(field.selections)
    return frozenset(names)


@strawberry.type(
    name="Dashboard",
    description="The edrone CRM dashboard for one date range of local days; every widget is a field.",
)
class DashboardType:
    resolved: strawberry.Private[ResolvedRange]
    consent_days: strawberry.Private[frozenset[date]]
    customer_days: strawberry.Private[frozenset[date]]
    shared: strawberry.Private[dict[str, asyncio.Future]]
    widgets: strawberry.Private[frozenset[str]]
    #: When the request began: an answer made before it came from the result cache.
    asked_at: strawberry.Private[datetime]

    async def _once(self, info: Info, name: str, **arguments: Hashable) -> Fresh:
        """The metric `name` (services.analytics.metrics) answered once per request and shared by the
        widgets that need it (and reused by the requests of the next seconds, see `result_cache`)."""
        key = (name, tuple(sorted(arguments.items())))
        if key not in self.shared:
            self.shared[key] = asyncio.ensure_future(info.context.answer(name, **arguments))
        return await self.shared[key]

    async def _consent_counts(self, info: Info, days: list[date] | None = None) -> Fresh:
        """Consent counts by gender for `days`, computed once per request for all consent widgets."""
        if days is not None and not set(days) <= self.consent_days:  # not planned (cannot happen with a parsed selection)
            return await self._once(info, "consent_counts", days=tuple(sorted(set(days))), by_gender=True)
        return await self._once(info, "consent_counts", days=tuple(sorted(self.consent_days)), by_gender=True)

    async def _customer_counts(self, info: Info, days: list[date] | None = None) -> Fresh:
        """Customer counts for `days`, computed once per request for the identified and spender widgets."""
        if days is not None and not set(days) <= self.customer_days:
            return await self._once(info, "customer_counts", days=tuple(sorted(set(days))))
        return await self._once(info, "customer_counts", days=tuple(sorted(self.customer_days)))

    async def _activity(self, info: Info) -> Fresh:
        return await self._once(info, "activity", day=self.resolved.last_day)

    async def _spenders(self, info: Info) -> Fresh:
        return await self._once(info, "spender_segments", day=self.resolved.last_day)

    async def _top_tags(self, info: Info) -> Fresh:
        return await self._once(info, "top_tags", today=store_today(info.context.require()))

    def _view(self, fresh: Fresh) -> FreshnessType:
        return FreshnessType.from_model(fresh.freshness, self.asked_at)

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

    @strawberry.field(
        description="How fresh the answer is: of `widget`, or of the whole dashboard (the widgets this request "
        "selects: the oldest `computedAt`, LIVE if any widget is live, BROUGHT_FORWARD if any is brought "
        "forward, cached if any is; computed now when no widget is selected). "
        "Cost: 0 (it reads nothing more: it shares the widgets' computations, each made at most once per request).",
        metadata=field_cost(0),
    )
    async def freshness(
        self, info: Info,
        widget: Annotated[DashboardWidget | None, strawberry.argument(
            description="One widget; the whole dashboard when omitted.")] = None,
    ) -> FreshnessType:
        names = {widget.value} if widget is not None else self.widgets
        computations = {
            "consent": self._consent_counts, "customers": self._customer_counts, "activity": self._activity,
            "spenders": self._spenders, "top_tags": self._top_tags,
        }
        needed = sorted({_COMPUTATION_OF_WIDGET[name] for name in names})
        parts = await asyncio.gather(*(computations[name](info) for name in needed))
        combined = Freshness.combine(part.freshness for part in parts) or Freshness.live(self.asked_at)
        return FreshnessType.from_model(combined, self.asked_at)

    @strawberry.field(description=f"A. Consent KPI cards: EMAIL and SMS × SUBSCRIBED/UNSUBSCRIBED/UNKNOWN "
                      f"(at most {len(consent.CHANNELS) * len(consent.BUCKETS)} cards). Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def consent_kpis(self, info: Info) -> list[ConsentKpiType]:
        r = self.resolved
        counts = (await self._consent_counts(info, [r.last_day, kpi_comparison_day(r)])).value
        return [ConsentKpiType.from_model(row) for row in consent.kpis_from_counts(counts, r)]

    @strawberry.field(description=f"B. Subscriptions over time: per channel and period, customers per bucket as of the period's end "
                      f"(one point per channel and period: at most {len(consent.CHANNELS) * MAX_POINTS:,}). Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def subscriptions(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[SubscriptionPointType]:
        periods = buckets(self.resolved, granularity)
        counts = (await self._consent_counts(info, [p.last_day for p in periods])).value
        rows = consent.series_from_counts(counts, periods, _channels(channel))
        return [SubscriptionPointType.from_model(row) for row in rows]

    @strawberry.field(description=f"C. Subscription × gender at the end of the range: per channel, gender × bucket "
                      f"(one row per channel and gender: at most {len(consent.CHANNELS) * len(Gender)}). Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def subscriptions_by_gender(
        self, info: Info,
        channel: Annotated[Channel | None, strawberry.argument(description=CHANNEL_DESCRIPTION)] = None,
    ) -> list[GenderConsentRowType]:
        day = self.resolved.last_day
        counts = (await self._consent_counts(info, [day])).value
        rows = consent.gender_rows_from_counts(counts[day], _channels(channel))
        return [GenderConsentRowType.from_model(row) for row in rows]

    @strawberry.field(description="D. Identified vs unidentified customers as of the end of each period, and the totals. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def identified(
        self, info: Info,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
    ) -> IdentifiedSeriesType:
        periods = buckets(self.resolved, granularity)
        counts = await self._customer_counts(info, [p.last_day for p in periods])
        return IdentifiedSeriesType.from_model(customers.identified_from_counts(counts.value, self.resolved, periods),
                                                 self._view(counts))

    @strawberry.field(description="E. Spenders vs prospects at the end of the range. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def spenders_prospects(self, info: Info) -> SpendersProspectsType:
        day = self.resolved.last_day
        counts = await self._customer_counts(info, [day])
        return SpendersProspectsType.from_model(customers.spenders_from_counts(counts.value, day), self._view(counts))

    @strawberry.field(description="F. Activity buckets at the end of the range, with the store's windows. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def activity(self, info: Info) -> ActivityBucketsType:
        fresh = await self._activity(info)
        return ActivityBucketsType.from_model(fresh.value, self._view(fresh))

    @strawberry.field(description="G. Spender segments by value and by frequency, with their thresholds. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def spender_segments(self, info: Info) -> SpenderSegmentsType:
        fresh = await self._spenders(info)
        return SpenderSegmentsType.from_model(fresh.value, self._view(fresh), info.context.require().currency)

    @strawberry.field(description=f"H. The tags on the most customers today (ties by name), at most {TOP_TAGS}; ignores the range. Cost: 1 (the dashboard's own cost covers the range).",
                      metadata=field_cost(1))
    async def top_tags(self, info: Info) -> list[TagCountType]:
        return [TagCountType.from_model(row) for row in (await self._top_tags(info)).value]


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
            shared={}, widgets=_selected_widgets(info), asked_at=utcnow(),
        )
