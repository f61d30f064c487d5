"""The RFM grid (docs/metrics.md, “RFM grid”): scores by rank with ties, both schemes, precomputed = live, edge cases.

Every expected number is worked out by hand in the comments next to it.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from crm_graph.models import Customer
from crm_graph.models.enums import RfmScheme
from crm_graph.services.analytics.rfm import SEGMENT_OF_CELL, RfmSegment, cells_of_segment, rfm_scores
from crm_graph.services.analytics.precompute import precompute_day
from crm_graph.services.analytics.rfm_grid import precompute_rfm_day, rfm_grid
from crm_graph.services.dates import DatePreset, resolve_range
from tests.factories import StoreBuilder, utc

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def build_march_store(session, store):
    """Seven customers of the grid (A–G) and the ones that must stay out of it.

    Range: March 2026 (UTC store), last day 31 March.
      A: 1 order 31 Mar (100)                               F=1  M=100  days=0
      B: 1 order 20 Mar (50)                                F=1  M=50   days=11
      C: 5 Mar (30), 25 Mar (70)                            F=2  M=100  days=6
      D: 2 Mar (200), 10 Mar (100); 150 refunded 15 Mar     F=2  M=150  days=21
      E: 1, 3, 31 Mar (10 each)                             F=3  M=30   days=0
      F: 25 Mar (500), refunded 2 Apr (after the range: not subtracted); a CANCELLED 30 Mar (1000)
                                                            F=1  M=500  days=6
      G: 1, 2, 3, 4 Mar (25 each)                           F=4  M=100  days=27
    Out of the grid: a guest order (no customer), an erased customer's order, J (only a CANCELLED
    order) and K (only a February order) are prospects; L was first seen in April (not a prospect).
    """
    b = StoreBuilder(session, store)
    people = {name: b.customer(email=f"{name.lower()}@example.com") for name in "ABCDEFGJK"}
    b.order(people["A"], "100", utc(2026, 3, 31, 10))
    b.order(people["B"], "50", utc(2026, 3, 20, 10))
    b.order(people["C"], "30", utc(2026, 3, 5, 10))
    b.order(people["C"], "70", utc(2026, 3, 25, 10))
    d1 = b.order(people["D"], "200", utc(2026, 3, 2, 10))
    b.order(people["D"], "100", utc(2026, 3, 10, 10))
    b.refund(d1, "150", utc(2026, 3, 15, 10))
    for day in (1, 3, 31):
        b.order(people["E"], "10", utc(2026, 3, day, 10))
    f1 = b.order(people["F"], "500", utc(2026, 3, 25, 10), status="REFUNDED")
    b.refund(f1, "500", utc(2026, 4, 2, 10))
    b.order(people["F"], "1000", utc(2026, 3, 30, 10), status="CANCELLED")
    for day in (1, 2, 3, 4):
        b.order(people["G"], "25", utc(2026, 3, day, 10))
    b.order(None, "999", utc(2026, 3, 15, 10))  # guest order: no customer
    erased = b.customer(erased_at=utc(2026, 3, 20))
    b.order(erased, "999", utc(2026, 3, 15, 10))
    b.order(people["J"], "80", utc(2026, 3, 15, 10), status="CANCELLED")
    b.order(people["K"], "80", utc(2026, 2, 15, 10))
    b.order(people["K"], "80", utc(2026, 3, 16, 10), status="PENDING")
    b.customer(email="l@example.com", created_at=utc(2026, 4, 5))
    b.commit()
    return {name: customer.id for name, customer in people.items()}


def scores_by_customer(session, store, r, scheme):
    q = rfm_scores(store, r, scheme).subquery()
    return {row.customer_id: row for row in session.execute(select(q))}


def cell_map(grid):
    return {(cell.r, cell.fm): cell for cell in grid.cells}


def test_quintile_scores_with_ties_at_the_borders(session, store):
    ids = build_march_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    rows = scores_by_customer(session, store, r, RfmScheme.QUINTILE)
    assert set(rows) == {ids[name] for name in "ABCDEFG"}
    # n = 7.  F sorted 1,1,1,2,2,3,4: F=1 -> 0 below -> 1; F=2 -> 3 below -> 1+15//7=3; F=3 -> 5 -> 1+25//7=4;
    # F=4 -> 6 -> 1+30//7=5.  M sorted 30,50,100,100,100,150,500: 30 -> 1; 50 -> 1+5//7=1;
    # 100 (A, C, G tie) -> 2 below -> 1+10//7=2; 150 -> 5 -> 1+25//7=4; 500 -> 6 -> 5.
    # Days 27(G),21(D),11(B),6(C,F),0(A,E): more days than G: 0 -> 1; D: 1 -> 1; B: 2 -> 1+10//7=2;
    # C,F: 3 -> 1+15//7=3; A,E: 5 -> 1+25//7=4.  FM = ceil((F+M)/2).
    expected = {
        #     days F  M        R  F  M  FM segment
        "A": (0, 1, "100.00", 4, 1, 2, 2, RfmSegment.POTENTIAL_LOYALIST),   # 42
        "B": (11, 1, "50.00", 2, 1, 1, 1, RfmSegment.ABOUT_TO_SLEEP),       # 21
        "C": (6, 2, "100.00", 3, 3, 2, 3, RfmSegment.POTENTIAL_LOYALIST),   # 33
        "D": (21, 2, "150.00", 1, 3, 4, 4, RfmSegment.CANT_LOSE_THEM),      # 14
        "E": (0, 3, "30.00", 4, 4, 1, 3, RfmSegment.POTENTIAL_LOYALIST),    # 43
        "F": (6, 1, "500.00", 3, 1, 5, 3, RfmSegment.POTENTIAL_LOYALIST),   # 33
        "G": (27, 4, "100.00", 1, 5, 2, 4, RfmSegment.CANT_LOSE_THEM),      # 14
    }
    for name, (days, f, m, r_score, f_score, m_score, fm, segment) in expected.items():
        row = rows[ids[name]]
        got = (row.recency_days, row.frequency, row.monetary, row.r_score, row.f_score, row.m_score,
               row.fm_score, row.segment)
        assert got == (days, f, Decimal(m), r_score, f_score, m_score, fm, segment.value), name


def test_quintile_grid_cells_prospects_and_shares(session, store):
    build_march_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    grid = rfm_grid(session, store, r, RfmScheme.QUINTILE)
    assert len(grid.cells) == 25 and grid.customers == 7
    cells = cell_map(grid)
    non_empty = {key: (cell.customers, cell.revenue, cell.share_of_customers)
                 for key, cell in cells.items() if cell.customers}
    assert non_empty == {
        (4, 2): (1, Decimal("100.00"), Decimal("0.1429")),  # A: 1/7
        (2, 1): (1, Decimal("50.00"), Decimal("0.1429")),   # B
        (3, 3): (2, Decimal("600.00"), Decimal("0.2857")),  # C + F = 100 + 500; 2/7
        (1, 4): (2, Decimal("250.00"), Decimal("0.2857")),  # D + G = 150 + 100
        (4, 3): (1, Decimal("30.00"), Decimal("0.1429")),   # E
    }
    assert cells[5, 5].customers == 0 and cells[5, 5].revenue == Decimal("0.00")
    assert cells[5, 5].segment is RfmSegment.CHAMPIONS
    assert grid.revenue == Decimal("1030.00")
    assert grid.prospects == 2  # J (only cancelled) and K (only February); not L (first seen in April)
    assert grid.scheme is RfmScheme.QUINTILE and grid.computed_at is None


def test_edrone_scheme(session, store):
    build_march_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    grid = rfm_grid(session, store, r, RfmScheme.EDRONE)
    assert len(grid.cells) == 16
    # R: days 0-7 -> 4 (A, C, E, F), 8-14 -> 3 (B), 15-30 -> 2 (D, G).
    # F: one-timers A, B, F -> 1; repeat C(2), D(2), E(3), G(4), 4 repeat customers:
    #    C, D: 0 below -> 2; E: 2 below -> 2+6//4=3; G: 3 below -> 2+9//4=4.
    # M = 1 + 4*below//7: E 0 -> 1; B 1 -> 1; A, C, G 2 -> 2; D 5 -> 1+20//7=3; F 6 -> 1+24//7=4.
    # FM: A ceil(1.5)=2, B 1, C 2, D ceil(2.5)=3, E ceil(2.5)=2, F ceil(2.5)=3, G 3.
    cells = cell_map(grid)
    non_empty = {key: (cell.customers, cell.revenue, cell.segment) for key, cell in cells.items() if cell.customers}
    assert non_empty == {
        (4, 2): (3, Decimal("230.00"), RfmSegment.POTENTIAL_LOYALIST),  # A, C, E; read as 52
        (3, 1): (1, Decimal("50.00"), RfmSegment.PROMISING),            # B; read as 41
        (2, 3): (2, Decimal("250.00"), RfmSegment.AT_RISK),             # D, G; read as 24
        (4, 3): (1, Decimal("500.00"), RfmSegment.CHAMPIONS),           # F; read as 54
    }


def test_store_setting_chooses_the_scheme(session, make_store):
    store = make_store(settings={"rfm_scheme": "EDRONE"})
    build_march_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    assert rfm_grid(session, store, r).scheme is RfmScheme.EDRONE
    assert rfm_grid(session, store, r, RfmScheme.QUINTILE).scheme is RfmScheme.QUINTILE


def test_warsaw_dst_decides_the_local_day(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    b = StoreBuilder(session, store)
    early, late, last, outside = (b.customer() for _ in range(4))
    # Range 1–29 March 2026 in Warsaw; 29 March is the spring-forward day: it ends 22:00 UTC (CEST).
    b.order(early, "10", utc(2026, 3, 28, 22, 59))  # 23:59 CET on 28 March -> 1 day before the end
    b.order(late, "10", utc(2026, 3, 28, 23, 30))   # 00:30 CET on 29 March (UTC date still the 28th) -> 0
    b.order(last, "10", utc(2026, 3, 29, 21, 30))   # 23:30 CEST on 29 March -> 0
    b.order(outside, "10", utc(2026, 3, 29, 22, 30))  # 00:30 CEST on 30 March: after the range
    b.order(outside, "10", utc(2026, 3, 2, 12))     # 2 March -> 27 days
    b.commit()
    r = resolve_range(store, (date(2026, 3, 1), date(2026, 3, 29)), today=date(2026, 6, 1))
    rows = scores_by_customer(session, store, r, RfmScheme.QUINTILE)
    assert {cid: row.recency_days for cid, row in rows.items()} == {
        early.id: 1, late.id: 0, last.id: 0, outside.id: 27}
    assert rows[outside.id].frequency == 1


def test_warsaw_fall_back_day_has_25_hours(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    b = StoreBuilder(session, store)
    one, two = b.customer(), b.customer()
    # 25 October 2026 ends at 23:00 UTC (CET). 22:30 UTC is 23:30 CET on the 25th: the last day.
    b.order(one, "10", utc(2026, 10, 25, 22, 30))
    b.order(two, "10", utc(2026, 10, 24, 21, 30))  # 23:30 CEST on the 24th -> 1 day
    b.commit()
    r = resolve_range(store, (date(2026, 10, 1), date(2026, 10, 25)), today=date(2026, 12, 1))
    rows = scores_by_customer(session, store, r, RfmScheme.EDRONE)
    assert (rows[one.id].recency_days, rows[two.id].recency_days) == (0, 1)


def test_edrone_recency_bands_at_their_edges(session, store):
    b = StoreBuilder(session, store)
    days_before = [7, 8, 14, 15, 30, 31]
    people = [b.customer() for _ in days_before]
    for person, days in zip(people, days_before):
        b.order(person, "10", utc(2026, 4, 30 - days, 12) if days < 30 else utc(2026, 3, 61 - days, 12))
    b.commit()
    r = resolve_range(store, (date(2026, 1, 1), date(2026, 4, 30)), today=date(2026, 6, 1))
    rows = scores_by_customer(session, store, r, RfmScheme.EDRONE)
    assert [rows[p.id].recency_days for p in people] == days_before
    assert [rows[p.id].r_score for p in people] == [4, 3, 3, 2, 2, 1]


def test_empty_store_and_future_range(session, store):
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    grid = rfm_grid(session, store, r)
    assert (len(grid.cells), grid.customers, grid.prospects, grid.revenue) == (25, 0, 0, Decimal("0.00"))
    assert all(cell.customers == 0 and cell.share_of_customers == 0 for cell in grid.cells)

    build_march_store(session, store)
    future = resolve_range(store, (date(2027, 1, 1), date(2027, 1, 31)), today=date(2026, 6, 1))
    grid = rfm_grid(session, store, future, RfmScheme.EDRONE)
    assert (len(grid.cells), grid.customers) == (16, 0)
    # Every customer first seen by then is a prospect: A-G, J, K, L (the erased one is not).
    assert grid.prospects == 10


def test_filter_counts_matching_customers_without_rescoring(session, store):
    ids = build_march_store(session, store)
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    only = select(Customer.id).where(Customer.id.in_([ids["A"], ids["D"], ids["J"]]))
    grid = rfm_grid(session, store, r, RfmScheme.QUINTILE, customer_ids=only)
    non_empty = {key: cell.customers for key, cell in cell_map(grid).items() if cell.customers}
    # A and D keep their store-wide cells (42 and 14); shares are of the 2 filtered grid customers.
    assert non_empty == {(4, 2): 1, (1, 4): 1}
    assert cell_map(grid)[4, 2].share_of_customers == Decimal("0.5000")
    assert grid.prospects == 1 and grid.filtered  # J


def test_precomputed_grid_equals_live(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    build_march_store(session, store)
    day = date(2026, 3, 31)
    written = precompute_day(session, store, day).counts["rfm_rows"]
    session.commit()
    assert written == 5 * (26 + 17)  # 5 presets x (25 + prospects, 16 + prospects)
    for preset in (DatePreset.LAST_7_DAYS, DatePreset.LAST_30_DAYS, DatePreset.LAST_90_DAYS,
                   DatePreset.LAST_365_DAYS, DatePreset.YEAR_TO_DATE):
        r = resolve_range(store, None, preset, today=day)
        for scheme in RfmScheme:
            stored = rfm_grid(session, store, r, scheme)
            live = rfm_grid(session, store, r, scheme, live=True)
            assert stored.computed_at is not None and live.computed_at is None
            assert (stored.cells, stored.customers, stored.prospects, stored.revenue) == (
                live.cells, live.customers, live.prospects, live.revenue), (preset, scheme)
    # The same days asked as an explicit range read the stored grid too; other ranges are live.
    explicit = resolve_range(store, (date(2026, 3, 2), date(2026, 3, 31)), today=date(2026, 6, 1))
    assert rfm_grid(session, store, explicit).computed_at is not None
    other = resolve_range(store, (date(2026, 3, 3), date(2026, 3, 31)), today=date(2026, 6, 1))
    assert rfm_grid(session, store, other).computed_at is None
    # LAST_30_DAYS on 31 March = 2-31 March: A-G are in it except nobody drops out; check it is non-trivial.
    assert rfm_grid(session, store, explicit).customers == 7
    # Precomputing again replaces the rows (idempotent).
    assert precompute_rfm_day(session, store, day) == written


def test_segment_maps_cover_every_cell():
    assert len(SEGMENT_OF_CELL[RfmScheme.QUINTILE]) == 25
    assert len(SEGMENT_OF_CELL[RfmScheme.EDRONE]) == 16
    assert set(SEGMENT_OF_CELL[RfmScheme.QUINTILE].values()) == set(RfmSegment)
    assert set(SEGMENT_OF_CELL[RfmScheme.EDRONE].values()) == set(RfmSegment)
    assert cells_of_segment(RfmScheme.QUINTILE, RfmSegment.CHAMPIONS) == [(4, 5), (5, 4), (5, 5)]
    assert cells_of_segment(RfmScheme.EDRONE, RfmSegment.LOST) == [(1, 1)]


@pytest.mark.parametrize("scheme", list(RfmScheme))
def test_scores_stay_in_the_grid_for_many_customers(session, store, scheme):
    # 23 customers with i orders of i each (n not divisible by 5): every score within 1..size.
    b = StoreBuilder(session, store)
    for i in range(1, 24):
        person = b.customer()
        for k in range(i % 6 + 1):
            b.order(person, str(i), utc(2026, 3, 1 + (i + k) % 28, 12))
    b.commit()
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    size = 5 if scheme is RfmScheme.QUINTILE else 4
    rows = scores_by_customer(session, store, r, scheme)
    assert len(rows) == 23
    for row in rows.values():
        assert all(1 <= value <= size for value in (row.r_score, row.f_score, row.m_score, row.fm_score))


def test_daily_precompute_stores_the_rfm_grids(session, store):
    from crm_graph.services.analytics.precompute import precompute_day

    build_march_store(session, store)
    summary = precompute_day(session, store, date(2026, 3, 31))
    session.commit()
    assert summary.counts["rfm_rows"] == 5 * (26 + 17)
    r = resolve_range(store, None, DatePreset.LAST_30_DAYS, today=date(2026, 3, 31))
    assert rfm_grid(session, store, r).computed_at is not None


def test_customer_filter_and_saved_segment_restrict_the_grid(session, store):
    from crm_graph.models import Segment
    from crm_graph.services.filters import CustomerFilter

    ids = build_march_store(session, store)
    for name in ("A", "D", "J"):
        session.get(Customer, ids[name]).country = "PL"
    segment = Segment(store_id=store.id, name="Poles", filter={"countries": ["PL"]})
    session.add(segment)
    session.commit()
    r = resolve_range(store, MARCH, today=date(2026, 6, 1))
    for customer_filter in (CustomerFilter(countries=["PL"]), CustomerFilter(segment_id=segment.id)):
        grid = rfm_grid(session, store, r, RfmScheme.QUINTILE, customer_filter=customer_filter)
        # A (42) and D (14) keep their store-wide cells; J is a prospect.
        assert {key: c.customers for key, c in cell_map(grid).items() if c.customers} == {(4, 2): 1, (1, 4): 1}
        assert (grid.customers, grid.prospects, grid.revenue, grid.filtered) == (2, 1, Decimal("250.00"), True)
    assert rfm_grid(session, store, r, customer_filter=CustomerFilter()).filtered is False  # empty filter
