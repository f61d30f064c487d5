"""RFM scoring (docs/metrics.md, “RFM grid”) as one reusable SQL query: every customer of a range with its R, F, M scores.

Over the customers with counted orders placed in the range (erased customers and orders without a
customer excluded):

- recency_days = local days between the customer's last counted order in the range and the last day
  of the range (0 = ordered on the last day);
- frequency = counted orders placed in the range;
- monetary = net revenue in the range: their totals minus their refunds issued by the end of the range.

QUINTILE (5×5): over the n customers of the grid, F = 1 + floor(5 × (customers with a strictly
smaller F) / n), M likewise, R = 1 + floor(5 × (customers with strictly more days since their last
order) / n). Ties share a score: the count of strictly smaller values is `rank() - 1`.

EDRONE (4×4): R 4 = last order 0–7 days before the end of the range, 3 = 8–14, 2 = 15–30, 1 = 31+;
F 1 = exactly one order, else 2 + floor(3 × (repeat customers with a strictly smaller F) / repeat
customers); M = 1 + floor(4 × (customers with a strictly smaller M) / n).

Both: FM = ceil((F + M) / 2); the segment comes from the (R, FM) digits (`SEGMENT_OF_CELL`).
The grid, the customer list ("customers of a cell") and saved segments all select from
`rfm_scores`, so they can never disagree.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Integer, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from crm_graph.models import Order, Refund, Store
from crm_graph.models.enums import RfmScheme
from crm_graph.models.types import Money
from crm_graph.services.analytics.scope import counted_in, of_live_customer
from crm_graph.services.analytics.sql import day_number, local_day_number
from crm_graph.services.dates import ResolvedRange


class RfmSegment(StrEnum):
    """The named segments of the RFM grid."""

    CHAMPIONS = "CHAMPIONS"
    LOYAL = "LOYAL"
    POTENTIAL_LOYALIST = "POTENTIAL_LOYALIST"
    RECENT = "RECENT"
    PROMISING = "PROMISING"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    ABOUT_TO_SLEEP = "ABOUT_TO_SLEEP"
    AT_RISK = "AT_RISK"
    CANT_LOSE_THEM = "CANT_LOSE_THEM"
    HIBERNATING = "HIBERNATING"
    LOST = "LOST"


#: How each segment is written for people.
SEGMENT_LABELS: dict[RfmSegment, str] = {
    RfmSegment.CHAMPIONS: "Champions",
    RfmSegment.LOYAL: "Loyal",
    RfmSegment.POTENTIAL_LOYALIST: "Potential loyalist",
    RfmSegment.RECENT: "Recent",
    RfmSegment.PROMISING: "Promising",
    RfmSegment.NEEDS_ATTENTION: "Needs attention",
    RfmSegment.ABOUT_TO_SLEEP: "About to sleep",
    RfmSegment.AT_RISK: "At risk",
    RfmSegment.CANT_LOSE_THEM: "Can't lose them",
    RfmSegment.HIBERNATING: "Hibernating",
    RfmSegment.LOST: "Lost",
}

_QUINTILE_CELLS: dict[RfmSegment, tuple[int, ...]] = {
    RfmSegment.CHAMPIONS: (55, 54, 45),
    RfmSegment.LOYAL: (53, 44, 35, 34),
    RfmSegment.POTENTIAL_LOYALIST: (52, 43, 42, 33),
    RfmSegment.RECENT: (51,),
    RfmSegment.PROMISING: (41, 31),
    RfmSegment.NEEDS_ATTENTION: (32, 23, 22),
    RfmSegment.ABOUT_TO_SLEEP: (21,),
    RfmSegment.AT_RISK: (25, 24, 13),
    RfmSegment.CANT_LOSE_THEM: (15, 14),
    RfmSegment.HIBERNATING: (12,),
    RfmSegment.LOST: (11,),
}

#: Our rule for the 4-point scheme: each 4-point digit is read as a 5-point one (4→5, 3→4, 2→2, 1→1)
#: and the 5×5 map applies. The middle level 3 of the 5-point scale is the one the 4-point scale lacks.
EDRONE_TO_QUINTILE_DIGIT = {4: 5, 3: 4, 2: 2, 1: 1}

#: Grid size per scheme.
SCALE: dict[RfmScheme, int] = {RfmScheme.QUINTILE: 5, RfmScheme.EDRONE: 4}


def _build_segment_map() -> dict[RfmScheme, dict[tuple[int, int], RfmSegment]]:
    quintile = {(code // 10, code % 10): segment for segment, codes in _QUINTILE_CELLS.items() for code in codes}
    assert len(quintile) == 25, "the 5×5 segment map must name every cell exactly once"
    digit = EDRONE_TO_QUINTILE_DIGIT
    edrone = {(r, fm): quintile[digit[r], digit[fm]] for r in range(1, 5) for fm in range(1, 5)}
    return {RfmScheme.QUINTILE: quintile, RfmScheme.EDRONE: edrone}


#: (R, FM) → segment, per scheme.
SEGMENT_OF_CELL: dict[RfmScheme, dict[tuple[int, int], RfmSegment]] = _build_segment_map()

#: EDRONE recency bands: R score = 4 when recency_days <= 7, 3 when <= 14, 2 when <= 30, else 1.
EDRONE_RECENCY_BANDS: tuple[tuple[int, int], ...] = ((7, 4), (14, 3), (30, 2))


def cells_of_segment(scheme: RfmScheme, segment: RfmSegment) -> list[tuple[int, int]]:
    """The (R, FM) cells of `segment` in `scheme` (for filters that pick a segment)."""
    return sorted(cell for cell, named in SEGMENT_OF_CELL[RfmScheme(scheme)].items() if named == segment)


def customer_metrics(store: Store, resolved_range: ResolvedRange) -> Select:
    """(customer_id, recency_days, frequency, monetary) of each customer of the range.

    One row per non-erased customer with at least one counted order placed in the range.
    """
    r = resolved_range
    refunds = (
        select(Refund.order_id.label("order_id"), func.sum(Refund.amount).label("refunded"))
        .where(Refund.store_id == store.id, Refund.refunded_at < r.end)
        .group_by(Refund.order_id)
        .subquery("refunds")
    )
    last_order_at = func.max(Order.placed_at)
    recency = day_number(r.last_day) - local_day_number(last_order_at, store.timezone, r.start, r.end)
    return (
        select(
            Order.customer_id.label("customer_id"),
            recency.label("recency_days"),
            func.count().label("frequency"),
            func.round(func.sum(Order.total - func.coalesce(refunds.c.refunded, 0)), 2).label("monetary"),
        )
        .outerjoin(refunds, refunds.c.order_id == Order.id)
        .where(*counted_in(store, r.start, r.end), of_live_customer(store))
        .group_by(Order.customer_id)
    )


def _count_below(ordered: ColumnElement, partition: ColumnElement | None = None) -> ColumnElement[int]:
    """How many rows (of the partition) have a strictly smaller `ordered` value: rank() - 1."""
    return func.rank().over(order_by=ordered, partition_by=partition) - 1


def _score(below: ColumnElement, levels: int, n: ColumnElement) -> ColumnElement[int]:
    """1 + floor(levels × below / n), in integer arithmetic."""
    return 1 + (levels * below) // n


def _segment_case(scheme: RfmScheme, r_score: ColumnElement, fm_score: ColumnElement) -> ColumnElement[str]:
    cells = SEGMENT_OF_CELL[scheme]
    return case({r * 10 + fm: segment.value for (r, fm), segment in sorted(cells.items())}, value=r_score * 10 + fm_score)


def _scored(store: Store, resolved_range: ResolvedRange, scheme: RfmScheme):
    """The metrics subquery with R, F and M scores (window functions over all customers of the range)."""
    metrics = customer_metrics(store, resolved_range).subquery("rfm_metrics")
    n = func.count().over()
    if scheme is RfmScheme.QUINTILE:
        r_score = _score(_count_below(metrics.c.recency_days.desc()), 5, n)
        f_score = _score(_count_below(metrics.c.frequency), 5, n)
        m_score = _score(_count_below(metrics.c.monetary), 5, n)
    else:
        days = metrics.c.recency_days
        r_score = case(*[(days <= limit, literal(score, Integer)) for limit, score in EDRONE_RECENCY_BANDS],
                       else_=literal(1, Integer))
        repeat = metrics.c.frequency >= 2
        repeat_n = func.sum(case((repeat, 1), else_=0)).over()
        # Within the partition of repeat customers, rank() - 1 counts repeat customers with a smaller F.
        f_score = case(
            (metrics.c.frequency == 1, literal(1, Integer)),
            else_=2 + (3 * _count_below(metrics.c.frequency, partition=repeat)) // func.nullif(repeat_n, 0, type_=Integer),
        )
        m_score = _score(_count_below(metrics.c.monetary), 4, n)
    return select(
        metrics.c.customer_id,
        metrics.c.recency_days,
        metrics.c.frequency,
        metrics.c.monetary,
        r_score.label("r_score"),
        f_score.label("f_score"),
        m_score.label("m_score"),
    ).subquery("rfm_scored")


def rfm_scores(store: Store, resolved_range: ResolvedRange, scheme: RfmScheme | str) -> Select:
    """Each customer of the range with its RFM figures, scores and segment (one SQL query).

    Columns: customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, fm_score,
    segment. Scores are computed over all customers of the range; select from it to list a cell
    (``q = rfm_scores(...).subquery(); select(q.c.customer_id).where(q.c.r_score == 5, q.c.fm_score == 4)``)
    or to aggregate.
    """
    scheme = RfmScheme(scheme)
    scored = _scored(store, resolved_range, scheme)
    fm_score = (scored.c.f_score + scored.c.m_score + 1) // 2
    return select(
        scored.c.customer_id,
        scored.c.recency_days,
        scored.c.frequency,
        cast(scored.c.monetary, Money).label("monetary"),
        scored.c.r_score,
        scored.c.f_score,
        scored.c.m_score,
        fm_score.label("fm_score"),
        _segment_case(scheme, scored.c.r_score, fm_score).label("segment"),
    )


def in_segment(scores, scheme: RfmScheme, segment: RfmSegment) -> ColumnElement[bool]:
    """A condition on a `rfm_scores` subquery: the row is in `segment`."""
    cells = cells_of_segment(scheme, segment)
    return or_(*[and_(scores.c.r_score == r, scores.c.fm_score == fm) for r, fm in cells])
