"""Root query field of the RFM grid."""

from typing import Annotated

import strawberry

from crm_graph.graphql.cost import range_cost
from crm_graph.graphql.context import Info
from crm_graph.graphql.customers.filters import CustomerFilterInput, to_filter
from crm_graph.graphql.dates import PRESET_DESCRIPTION, RANGE_DESCRIPTION, DatePreset, DateRangeInput, resolve_range_arguments
from crm_graph.graphql.enums import RfmScheme
from crm_graph.graphql.freshness import FreshnessType
from crm_graph.graphql.rfm.types import RfmGridType


@strawberry.type
class RfmQuery:
    @strawberry.field(
        description=(
            "The live RFM grid of a range (default LAST_30_DAYS) in the store's scheme or `scheme`. A range "
            "that is exactly a precomputed preset range is read from the daily precompute (see `computedAt`). "
            "Cost: 20 + 1 per day of the range (a preset counts its days, no range 30)."
        ),
        metadata=range_cost(20),
    )
    async def rfm_grid(
        self,
        info: Info,
        date_range: Annotated[DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)] = None,
        preset: Annotated[DatePreset | None, strawberry.argument(description=PRESET_DESCRIPTION)] = None,
        scheme: Annotated[RfmScheme | None, strawberry.argument(
            description="QUINTILE (5×5) or EDRONE (4×4); default: the store's `rfmScheme` setting.")] = None,
        live: Annotated[bool, strawberry.argument(
            description="Compute now even when a precomputed grid of the range exists.")] = False,
        filter: Annotated[CustomerFilterInput | None, strawberry.argument(
            description=(
                "Count only the customers matching this filter of the customer list (`segmentId` picks a "
                "saved segment). Scores stay those of the whole store: a customer is in the same cell "
                "with or without a filter; shares are of the matching customers. Always live."
            ))] = None,
    ) -> RfmGridType:
        resolved = resolve_range_arguments(info.context.require(), date_range, preset)
        customer_filter = to_filter(filter)
        grid = await info.context.answer("rfm_grid", live=live, resolved=resolved, scheme=scheme,
                                         customer_filter=customer_filter)
        return RfmGridType.from_model(grid.value, info.context.require().currency, FreshnessType.from_model(grid.freshness))
