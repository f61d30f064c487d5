"""Root query field of the period KPIs."""

from typing import Annotated

import strawberry
from strawberry.types.nodes import SelectedField

from crm_graph.graphql.cost import range_cost
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
from crm_graph.graphql.period.types import PeriodKpisType


def _asks_for_series(info: Info) -> bool:
    """Whether the request selects `series` (fragments count as selecting it: the series is then computed)."""
    for field in info.selected_fields:
        for selection in field.selections:
            if not isinstance(selection, SelectedField) or selection.name == "series":
                return True
    return False


@strawberry.type
class PeriodQuery:
    @strawberry.field(
        description=(
            "Putler's customer KPIs of a range (customers, new, returning, lost, net revenue, orders, "
            "averages, LTV, acquisition pace, top 20% share, one-time vs repeat buyers), each with the "
            "previous period of the same length, and their time series. "
            "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30)."
        ),
        metadata=range_cost(20),
    )
    async def period_kpis(
        self,
        info: Info,
        date_range: Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)] = None,
        preset: Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)] = None,
        granularity: Annotated[Granularity, strawberry.argument(description=GRANULARITY_DESCRIPTION)] = Granularity.DAY,
    ) -> PeriodKpisType:
        resolved = resolve_range_arguments(info.context.require(), date_range, preset)
        kpis = await info.context.answer("period_kpis", resolved=resolved, granularity=granularity,
                                         with_series=_asks_for_series(info))
        return PeriodKpisType.from_model(kpis.value, FreshnessType.from_model(kpis.freshness), info.context.require().currency)
