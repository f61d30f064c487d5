"""GraphQL types of the RFM grid: its cells, the segment map and the grid itself."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from crm_graph.graphql.enums import RfmScheme
from crm_graph.graphql.freshness import FRESHNESS_DESCRIPTION, FreshnessType
from crm_graph.graphql.period.types import PeriodRangeType
from crm_graph.graphql.values import MoneyType, money
from crm_graph.services.analytics import rfm
from crm_graph.services.analytics.rfm_grid import RfmCell, RfmGrid

RfmSegment = strawberry.enum(
    rfm.RfmSegment,
    description=(
        "A named group of RFM cells. QUINTILE map by (R, FM) digits: CHAMPIONS 55 54 45; LOYAL 53 44 35 34; "
        "POTENTIAL_LOYALIST 52 43 42 33; RECENT 51; PROMISING 41 31; NEEDS_ATTENTION 32 23 22; "
        "ABOUT_TO_SLEEP 21; AT_RISK 25 24 13; CANT_LOSE_THEM 15 14; HIBERNATING 12; LOST 11. EDRONE: "
        "each 4-point digit is read as a 5-point one (4→5, 3→4, 2→2, 1→1) and the same map applies."
    ),
)


#: The most cells a grid has (QUINTILE: 5 × 5) and the most cells one segment has in either scheme.
_MOST_CELLS = max(len(cells) for cells in rfm.SEGMENT_OF_CELL.values())
_MOST_CELLS_OF_SEGMENT = max(
    len(rfm.cells_of_segment(scheme, segment)) for scheme in rfm.SEGMENT_OF_CELL for segment in rfm.RfmSegment
)


@strawberry.type(name="RfmCellPosition", description="The scores that place a cell in the grid.")
class RfmCellPositionType:
    r: int = strawberry.field(description="Recency score.")
    fm: int = strawberry.field(description="Frequency-monetary score: ceil((F + M) / 2).")


@strawberry.type(name="RfmCell", description="One cell of the RFM grid: the customers of the range with these R and FM scores.")
class RfmCellType:
    r: int = strawberry.field(description="Recency score: 5 (or 4) = ordered most recently.")
    fm: int = strawberry.field(description="Frequency-monetary score, ceil((F + M) / 2): 5 (or 4) = most orders and revenue.")
    segment: RfmSegment = strawberry.field(description="The segment the cell belongs to.")
    segment_label: str = strawberry.field(description="The segment's name for people, e.g. `Can't lose them`.")
    customers: int = strawberry.field(description="Customers in the cell (0 for an empty cell).")
    revenue: MoneyType = strawberry.field(
        description="Their net revenue in the range, in the store currency: counted order totals minus refunds "
        "issued by the end of the range."
    )
    share_of_customers: float = strawberry.field(description="customers / customers of the grid, 4 places; 0 for an empty grid.")

    @classmethod
    def from_model(cls, cell: RfmCell, currency: str) -> RfmCellType:
        """The GraphQL view of a cell; its revenue is in `currency` (the store's)."""
        return cls(r=cell.r, fm=cell.fm, segment=cell.segment, segment_label=rfm.SEGMENT_LABELS[cell.segment],
                   customers=cell.customers, revenue=money(cell.revenue, currency),
                   share_of_customers=float(cell.share_of_customers))


@strawberry.type(name="RfmSegmentSummary", description="One segment of the grid: its cells and their totals.")
class RfmSegmentSummaryType:
    segment: RfmSegment = strawberry.field(description="The segment.")
    label: str = strawberry.field(description="The segment's name for people.")
    cells: list[RfmCellPositionType] = strawberry.field(
        description=f"The (R, FM) cells of the segment in this scheme (at most {_MOST_CELLS_OF_SEGMENT})."
    )
    customers: int = strawberry.field(description="Customers in the segment's cells.")
    revenue: MoneyType = strawberry.field(description="Their net revenue in the range, in the store currency.")
    share_of_customers: float = strawberry.field(description="customers / customers of the grid, 4 places.")


@strawberry.type(
    name="RfmGrid",
    description=(
        "The RFM grid of a range over the customers with counted orders placed in it (erased customers and "
        "orders without a customer excluded). R from the local days between the last order in the range "
        "and the range's last day, F = counted orders in the range, M = net revenue in the range. QUINTILE: "
        "scores 1–5 by rank with ties kept together (score = 1 + floor(5 × customers with a strictly "
        "worse value / n)); EDRONE: R by 0–7/8–14/15–30/31+ days, F 1 for one order else by rank among "
        "repeat customers, M by rank in 4. FM = ceil((F + M) / 2)."
    ),
)
class RfmGridType:
    scheme: RfmScheme = strawberry.field(description="The scoring scheme of the grid.")
    range: PeriodRangeType = strawberry.field(description="The range the grid is about.")
    cells: list[RfmCellType] = strawberry.field(
        description=f"All 25 (QUINTILE) or 16 (EDRONE) cells, empty ones with 0, from R and FM highest down "
        f"(at most {_MOST_CELLS})."
    )
    segments: list[RfmSegmentSummaryType] = strawberry.field(
        description=f"The segment map of the scheme with each segment's totals: one per segment (at most {len(rfm.RfmSegment)})."
    )
    customers: int = strawberry.field(description="n: customers in the grid (with a counted order placed in the range).")
    revenue: MoneyType = strawberry.field(description="Their net revenue in the range, in the store currency.")
    prospects: int = strawberry.field(
        description=(
            "PROSPECT customers, outside the grid: not erased, first seen before the end of the range, and "
            "without a counted order placed in it."
        )
    )
    filtered: bool = strawberry.field(
        description="True when a filter restricted the customers counted (their scores are still store-wide)."
    )
    computed_at: datetime | None = strawberry.field(
        description="When the grid was precomputed by the daily job; null when it was computed for this request "
        "(`freshness` says both)."
    )
    freshness: FreshnessType = strawberry.field(
        description="STORED with the precomputed grid's time, or LIVE as of this request's computation."
    )

    @classmethod
    def from_model(cls, grid: RfmGrid, currency: str, freshness: FreshnessType | None = None) -> RfmGridType:
        """The GraphQL view of a grid with its money in `currency` (the store's); `freshness`: the
        runner's, else the grid's own."""
        cells = [RfmCellType.from_model(cell, currency) for cell in grid.cells]
        summaries = []
        for segment in rfm.RfmSegment:
            mine = [cell for cell in grid.cells if cell.segment is segment]
            customers = sum(cell.customers for cell in mine)
            summaries.append(RfmSegmentSummaryType(
                segment=segment, label=rfm.SEGMENT_LABELS[segment],
                cells=[RfmCellPositionType(r=cell.r, fm=cell.fm) for cell in mine],
                customers=customers, revenue=money(sum((cell.revenue for cell in mine), Decimal("0.00")), currency),
                share_of_customers=round(customers / grid.customers, 4) if grid.customers else 0.0,
            ))
        return cls(scheme=grid.scheme, range=PeriodRangeType.from_model(grid.range), cells=cells,
                   segments=summaries, customers=grid.customers, revenue=money(grid.revenue, currency), prospects=grid.prospects,
                   filtered=grid.filtered, computed_at=grid.computed_at,
                   freshness=freshness or FreshnessType.from_model(grid.freshness))
