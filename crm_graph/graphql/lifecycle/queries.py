"""Root query fields of lifecycle and marketing analytics (docs/metrics.md, “Lifecycle and marketing”)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from crm_graph.errors import UserError
from crm_graph.graphql.cost import field_cost, range_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.dates import (
    GRANULARITY_DESCRIPTION,
    PRESET_DESCRIPTION,
    RANGE_DESCRIPTION,
    DatePreset,
    DateRangeInput,
    Granularity,
    resolve_range_arguments,
)
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.graphql.relay import register_node
from crm_graph.graphql.lifecycle.types import (
    AcquisitionChannelType,
    ClvModelType,
    CohortType,
    LifecycleStagePointType,
    ProductPairType,
    ProductPopularityType,
    ProductSort,
    PurchaseRhythmType,
)
from crm_graph.services import dates
from crm_graph.services.lifecycle import clv, cohorts, products

#: The most acquisition channels `acquisitionChannels` lists (channels are free text on customers).
MAX_CHANNELS = 100

RangeArg = Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)]
PresetArg = Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)]
GranularityArg = Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)]
LimitArg = Annotated[int, strawberry.argument(description=f"Most rows to return, 1–{products.MAX_LIMIT}.")]
ChannelLimitArg = Annotated[int, strawberry.argument(description=f"Most channels to return, 1–{MAX_CHANNELS}.")]


def _range(info: Info, date_range: DateRangeInput | None, preset) -> dates.ResolvedRange:
    return resolve_range_arguments(info.context.require(), date_range, preset)


def _currency(info: Info) -> str:
    return info.context.require().currency


async def _load_clv_models(info: Info, model_ids: list[int]) -> dict[int, ClvModelType]:
    """`node(id:)` for ClvModel ids: the request's store's fits only."""
    currency = _currency(info)
    models = await info.context.run(clv.models_by_id, model_ids)
    return {model.id: ClvModelType.from_model(model, FreshnessType.from_model(clv.model_freshness(model)), currency)
            for model in models}


register_node("ClvModel", _load_clv_models)


@strawberry.type
class LifecycleQuery:
    @strawberry.field(description="The store's latest predicted-CLV fit (any status); null when never fitted. Cost: 1.",
                      metadata=field_cost(1))
    async def clv_model(self, info: Info) -> ClvModelType | None:
        model = await info.context.run(clv.latest_model)
        if model is None:
            return None
        return ClvModelType.from_model(model, FreshnessType.from_model(clv.model_freshness(model)), _currency(info))

    @strawberry.field(description=f"Buyers per lifecycle stage as of the end of each period of the range: one point "
                      f"per period (at most {dates.MAX_POINTS:,}). Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).",
                      metadata=range_cost(20))
    async def lifecycle_stages(self, info: Info, date_range: RangeArg = None, preset: PresetArg = None,
                               granularity: GranularityArg = dates.Granularity.DAY) -> list[LifecycleStagePointType]:
        points = await info.context.answer("lifecycle_stages", resolved=_range(info, date_range, preset),
                                           granularity=granularity)
        freshness = FreshnessType.from_model(points.freshness)
        return [LifecycleStagePointType.from_model(point, freshness) for point in points.value]

    @strawberry.field(
        description="Retention matrix of the monthly cohorts (month of first counted order) the range touches "
        f"(at most {cohorts.MAX_COHORT_MONTHS}). "
        "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).",
        metadata=range_cost(20),
    )
    async def cohorts(self, info: Info, date_range: RangeArg = None, preset: PresetArg = None) -> list[CohortType]:
        rows = await info.context.answer("cohorts", resolved=_range(info, date_range, preset))
        freshness = FreshnessType.from_model(rows.freshness)
        return [CohortType.from_model(row, freshness, _currency(info)) for row in rows.value]

    @strawberry.field(description="Days between orders in the range and the average lifetime of repeat buyers. "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).", metadata=range_cost(20))
    async def purchase_rhythm(self, info: Info, date_range: RangeArg = None,
                              preset: PresetArg = None) -> PurchaseRhythmType:
        figures = await info.context.answer("purchase_rhythm", resolved=_range(info, date_range, preset))
        return PurchaseRhythmType.from_model(figures.value, FreshnessType.from_model(figures.freshness))

    @strawberry.field(description="The most popular products of the range by buyers, orders, units or revenue: "
                      f"at most `limit` (at most {products.MAX_LIMIT}). "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).", metadata=range_cost(20))
    async def product_popularity(
        self, info: Info, date_range: RangeArg = None, preset: PresetArg = None,
        sort_by: Annotated[ProductSort, strawberry.argument(description="What to rank by.")] = products.ProductSort.REVENUE,
        limit: LimitArg = 20,
    ) -> list[ProductPopularityType]:
        rows = await info.context.answer("product_popularity", resolved=_range(info, date_range, preset),
                                         sort=sort_by, limit=limit)
        freshness = FreshnessType.from_model(rows.freshness)
        return [ProductPopularityType.from_model(row, freshness, _currency(info)) for row in rows.value]

    @strawberry.field(description="Products bought together in the orders of the range, most frequent pairs first: "
                      f"at most `limit` (at most {products.MAX_LIMIT}). "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).", metadata=range_cost(20))
    async def product_pairs(
        self, info: Info, date_range: RangeArg = None, preset: PresetArg = None,
        min_orders: Annotated[int, strawberry.argument(description="Only pairs found together in at least this many orders.")] = 1,
        limit: LimitArg = 20,
    ) -> list[ProductPairType]:
        rows = await info.context.answer("product_pairs", resolved=_range(info, date_range, preset),
                                         min_orders=min_orders, limit=limit)
        freshness = FreshnessType.from_model(rows.freshness)
        return [ProductPairType.from_model(row, freshness) for row in rows.value]

    @strawberry.field(description="Per acquisition channel: new customers, their revenue, repeat rate, LTV, spend, CAC and ROI; "
                      f"most new customers first, at most `limit` channels (at most {MAX_CHANNELS}). "
                      "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30).", metadata=range_cost(20))
    async def acquisition_channels(self, info: Info, date_range: RangeArg = None,
                                   preset: PresetArg = None, limit: ChannelLimitArg = MAX_CHANNELS) -> list[AcquisitionChannelType]:
        if not 1 <= limit <= MAX_CHANNELS:
            raise UserError(f"`limit` must be between 1 and {MAX_CHANNELS}; got {limit}.")
        rows = await info.context.answer("acquisition_channels", resolved=_range(info, date_range, preset))
        freshness = FreshnessType.from_model(rows.freshness)
        currency = _currency(info)
        return [AcquisitionChannelType.from_model(row, freshness, currency) for row in rows.value[:limit]]
