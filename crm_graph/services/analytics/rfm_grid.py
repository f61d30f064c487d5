"""The RFM grid (docs/metrics.md, “RFM grid”): every cell of the 5×5 (or 4×4) grid with its customers and revenue.

Live, the grid is one SQL statement over `rfm_scores`. The PRECOMPUTE job stores the grids of the
preset ranges ending on the last day it computes (`PRECOMPUTED_PRESETS`, both schemes) in
`daily_rfm_cell`; a request for exactly such a range (by preset or by the same days) reads them while
they are fresh (`daily.fresh`: no change dated on or before their day since), any other request is live.

A filtered grid (the customer-list filter or a saved segment) shows where the matching customers sit
in the store-wide grid: scores are computed over every customer of the range, then only the matching
customers are counted. So a customer's cell never depends on the filter, and "Champions from Poland"
in the grid is the same set as the customer list filtered by country PL and segment CHAMPIONS.
Filtered grids are always live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, delete, func, insert, literal, select, union_all
from sqlmodel import Session

from crm_graph.models import Customer, DailyRfmCell, Order, Store
from crm_graph.models.enums import RfmScheme
from crm_graph.models.types import ZERO, utcnow
from crm_graph.services.analytics import runner
from crm_graph.services.analytics.contract import StoredValue
from crm_graph.services.analytics.daily import fresh
from crm_graph.services.analytics.freshness import Freshness
from crm_graph.services.analytics.rfm import SCALE, SEGMENT_OF_CELL, RfmSegment, rfm_scores
from crm_graph.services.analytics.scope import counted_in
from crm_graph.services.analytics.sql import tune_for_analytics
from crm_graph.services.dates import DatePreset, ResolvedRange, preset_days, resolve_range
from crm_graph.services.filters import CustomerFilter, filtered_customer_ids

#: The presets whose grids the daily precompute stores (each ends on the day it is computed for).
PRECOMPUTED_PRESETS: tuple[DatePreset, ...] = (
    DatePreset.LAST_7_DAYS,
    DatePreset.LAST_30_DAYS,
    DatePreset.LAST_90_DAYS,
    DatePreset.LAST_365_DAYS,
    DatePreset.YEAR_TO_DATE,
)

#: `daily_rfm_cell` keeps the prospects of a grid in the row r = fm = 0 (no orders: no scores).
PROSPECT_CELL = (0, 0)

_SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class RfmCell:
    """One cell of the grid: its R and FM scores, segment, customers and their net revenue."""

    r: int
    fm: int
    segment: RfmSegment
    customers: int
    revenue: Decimal
    share_of_customers: Decimal


@dataclass(frozen=True)
class RfmGrid:
    """The whole grid of a range: all cells (empty ones with 0), n, prospects and where it came from.

    `computed_at` is when the precomputed grid was computed, None when it was computed for this request;
    `answered_at` when this answer was made (the start of the live computation, or of the read).
    """

    scheme: RfmScheme
    range: ResolvedRange
    cells: list[RfmCell]
    customers: int
    revenue: Decimal
    prospects: int
    computed_at: datetime | None
    filtered: bool = False
    answered_at: datetime | None = field(default=None, compare=False)

    @property
    def freshness(self) -> Freshness:
        """STORED with the stored grid's `computed_at`, or LIVE as of this computation."""
        answered = self.answered_at or utcnow()
        if self.computed_at is not None:
            return Freshness.stored(self.computed_at, answered)
        return Freshness.live(answered)


def _share(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE_PLACES, rounding=ROUND_HALF_UP)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(ZERO, rounding=ROUND_HALF_UP)


def _build_grid(scheme: RfmScheme, resolved_range: ResolvedRange, counts: dict[tuple[int, int], tuple[int, Decimal]],
                prospects: int, computed_at: datetime | None, filtered: bool, answered_at: datetime) -> RfmGrid:
    size = SCALE[scheme]
    n = sum(customers for customers, _ in counts.values())
    cells = []
    for r in range(size, 0, -1):
        for fm in range(size, 0, -1):
            customers, revenue = counts.get((r, fm), (0, ZERO))
            cells.append(RfmCell(r=r, fm=fm, segment=SEGMENT_OF_CELL[scheme][r, fm], customers=customers,
                                 revenue=revenue, share_of_customers=_share(customers, n)))
    return RfmGrid(scheme=scheme, range=resolved_range, cells=cells, customers=n,
                   revenue=sum((cell.revenue for cell in cells), ZERO), prospects=max(prospects, 0),
                   computed_at=computed_at, filtered=filtered, answered_at=answered_at)


#: Marker rows of `grid_query` (outside the 1..5 scores): customers first seen by the end of the range,
#: and grid customers first seen only after it.
_POPULATION, _LATE = (0, 0), (0, 1)


def grid_query(store: Store, resolved_range: ResolvedRange, scheme: RfmScheme,
               customer_ids: Select | None = None) -> Select:
    """One statement: (r, fm, customers, revenue) per non-empty cell, plus two marker rows for prospects.

    Prospects = customers (not erased) first seen before the end of the range with no counted order
    in it = customers first seen by then − n + grid customers first seen only after the end (their
    `created_at` is later than an order, as imports can make it). `customer_ids` (a select of ids)
    restricts what is counted, not how scores are computed.
    """
    r = resolved_range
    scores = rfm_scores(store, r, scheme).subquery("rfm_scores")
    cells = select(
        scores.c.r_score.label("r"),
        scores.c.fm_score.label("fm"),
        func.count().label("customers"),
        func.sum(scores.c.monetary).label("revenue"),
    ).group_by(scores.c.r_score, scores.c.fm_score)
    live = (Customer.store_id == store.id, Customer.erased_at.is_(None))
    population = select(literal(_POPULATION[0]), literal(_POPULATION[1]), func.count(), literal(0)).where(
        *live, Customer.created_at < r.end)
    in_range = select(Order.customer_id).where(*counted_in(store, r.start, r.end), Order.customer_id == Customer.id)
    late = select(literal(_LATE[0]), literal(_LATE[1]), func.count(), literal(0)).where(
        *live, Customer.created_at >= r.end, in_range.exists())
    if customer_ids is not None:
        cells = cells.where(scores.c.customer_id.in_(customer_ids))
        population = population.where(Customer.id.in_(customer_ids))
        late = late.where(Customer.id.in_(customer_ids))
    return union_all(cells, population, late)


def live_rfm_grid(session: Session, store: Store, resolved_range: ResolvedRange, scheme: RfmScheme | str,
                  customer_ids: Select | None = None) -> RfmGrid:
    """Compute the grid of `resolved_range` now, in the database (one query)."""
    started = utcnow()
    scheme = RfmScheme(scheme)
    counts: dict[tuple[int, int], tuple[int, Decimal]] = {}
    markers = {_POPULATION: 0, _LATE: 0}
    tune_for_analytics(session)
    for r, fm, customers, revenue in session.execute(grid_query(store, resolved_range, scheme, customer_ids)):
        if (r, fm) in markers:
            markers[int(r), int(fm)] = int(customers)
        else:
            counts[int(r), int(fm)] = (int(customers), _money(revenue))
    n = sum(customers for customers, _ in counts.values())
    prospects = markers[_POPULATION] - n + markers[_LATE]
    return _build_grid(scheme, resolved_range, counts, prospects, None, customer_ids is not None, started)


def matching_preset(resolved_range: ResolvedRange) -> DatePreset | None:
    """The precomputed preset whose days on `last_day` are exactly this range's days, if any."""
    if resolved_range.preset in PRECOMPUTED_PRESETS and resolved_range.today == resolved_range.last_day:
        return resolved_range.preset
    for preset in PRECOMPUTED_PRESETS:
        if preset_days(preset, resolved_range.last_day) == (resolved_range.first_day, resolved_range.last_day):
            return preset
    return None


def precomputed_rfm_grid(session: Session, store: Store, resolved_range: ResolvedRange,
                         scheme: RfmScheme | str) -> RfmGrid | None:
    """The stored grid of exactly this range, or None when it was not precomputed or is no longer fresh."""
    started = utcnow()
    scheme = RfmScheme(scheme)
    preset = matching_preset(resolved_range)
    if preset is None:
        return None
    rows = session.execute(
        select(DailyRfmCell.r, DailyRfmCell.fm, DailyRfmCell.customers, DailyRfmCell.revenue,
               DailyRfmCell.computed_at)
        .where(DailyRfmCell.store_id == store.id, DailyRfmCell.day == resolved_range.last_day,
               DailyRfmCell.preset == preset.value, DailyRfmCell.scheme == scheme.value,
               fresh(DailyRfmCell.day, store))
    ).all()
    if not rows:
        return None
    counts = {(r, fm): (customers, _money(revenue)) for r, fm, customers, revenue, _ in rows
              if (r, fm) != PROSPECT_CELL and customers}
    prospects = next((customers for r, fm, customers, _, _ in rows if (r, fm) == PROSPECT_CELL), 0)
    computed_at = min(row.computed_at for row in rows)
    return _build_grid(scheme, resolved_range, counts, prospects, computed_at, False, started)


def rfm_grid(session: Session, store: Store, resolved_range: ResolvedRange, scheme: RfmScheme | str | None = None,
             *, customer_filter: CustomerFilter | None = None, customer_ids: Select | None = None,
             live: bool = False) -> RfmGrid:
    """The RFM grid of a range in `scheme` (default: the store's `rfm_scheme` setting): the `rfm_grid` metric.

    `customer_filter` (the customer list's filter, which can name a saved segment) or `customer_ids`
    (a select of ids) restrict the customers counted; scores stay store-wide (module docstring).
    Reads the precomputed grid when the range is exactly a precomputed preset range (and neither a
    filter nor `live` is given); computes it live otherwise.
    """
    return runner.answer(session, store, "rfm_grid", live=live, resolved=resolved_range, scheme=scheme,
                         customer_filter=customer_filter, customer_ids=customer_ids).value


def _customer_ids(session: Session, store: Store, customer_filter: CustomerFilter | None,
                  customer_ids: Select | None) -> Select | None:
    """The select of the customers a grid counts (None: all), from a filter or given ids."""
    if customer_filter is not None and not customer_filter.is_empty():
        if customer_ids is not None:
            raise ValueError("give customer_filter or customer_ids, not both")
        return filtered_customer_ids(store, customer_filter, session=session)
    return customer_ids


def stored_rfm_grid(session: Session, store: Store, *, resolved: ResolvedRange, scheme: RfmScheme | str | None = None,
                    customer_filter: CustomerFilter | None = None,
                    customer_ids: Select | None = None) -> StoredValue[RfmGrid] | None:
    """The stored grid of exactly this range when it is a precomputed preset range and fresh; never for a
    filtered grid."""
    if _customer_ids(session, store, customer_filter, customer_ids) is not None:
        return None
    grid = precomputed_rfm_grid(session, store, resolved, scheme or store.analytics_settings.rfm_scheme)
    return None if grid is None or grid.computed_at is None else StoredValue(grid, grid.computed_at)


def live_grid(session: Session, store: Store, *, resolved: ResolvedRange, scheme: RfmScheme | str | None = None,
              customer_filter: CustomerFilter | None = None, customer_ids: Select | None = None) -> RfmGrid:
    """The grid computed now (`live_rfm_grid`), of the customers of the filter or ids if given."""
    return live_rfm_grid(session, store, resolved, scheme or store.analytics_settings.rfm_scheme,
                         _customer_ids(session, store, customer_filter, customer_ids))


def precompute_rfm_day(session: Session, store: Store, day: date) -> int:
    """Store the grids of every `PRECOMPUTED_PRESETS` range ending on local `day`, in both schemes.

    Idempotent: the day's rows are replaced. Every cell is written (empty ones with 0) plus the
    prospects row, so "precomputed and empty" is told apart from "not precomputed". Returns the
    number of rows written.
    """
    now = utcnow()
    written = 0
    for preset in PRECOMPUTED_PRESETS:
        resolved_range = resolve_range(store, None, preset, today=day)
        for scheme in RfmScheme:
            grid = live_rfm_grid(session, store, resolved_range, scheme)
            session.execute(delete(DailyRfmCell).where(
                DailyRfmCell.store_id == store.id, DailyRfmCell.day == day,
                DailyRfmCell.preset == preset.value, DailyRfmCell.scheme == scheme.value))
            rows = [dict(store_id=store.id, day=day, preset=preset.value, scheme=scheme.value, r=cell.r,
                         fm=cell.fm, customers=cell.customers, revenue=cell.revenue, computed_at=now)
                    for cell in grid.cells]
            rows.append(dict(store_id=store.id, day=day, preset=preset.value, scheme=scheme.value,
                             r=PROSPECT_CELL[0], fm=PROSPECT_CELL[1], customers=grid.prospects, revenue=ZERO,
                             computed_at=now))
            session.execute(insert(DailyRfmCell), rows)
            written += len(rows)
    session.flush()
    return written
