"""Lifecycle stages: each rule on a hand-built store, as of a day and over time."""

from datetime import date

import pytest

from crm_graph.models import ClvModel
from crm_graph.services.dates import Granularity, make_range
from crm_graph.services.lifecycle.stages import LifecycleStage as S, customer_stages, stage_counts
from tests.factories import StoreBuilder, utc

AS_OF = date(2026, 6, 30)


def _orders(b: StoreBuilder, customer, *days: date, status: str = "COMPLETED"):
    for day in days:
        b.order(customer, "10.00", utc(day.year, day.month, day.day, 12), status=status)


@pytest.fixture
def shop(session, store):
    """One customer per rule (see each comment for the hand computation as of 2026-06-30)."""
    b = StoreBuilder(session, store)
    c = {name: b.customer(email=f"{name}@example.com") for name in "ABCDEFGHIJK"}
    _orders(b, c["A"], date(2026, 6, 20))  # first order 10 days before → NEW
    # Gaps 31 and 28 → usual 29.5; 121 days since > 3 × 29.5 → CHURNED.
    _orders(b, c["B"], date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
    # Usual gap 40/2 = 20; 20 days since ≤ 1.5 × 20 → ACTIVE.
    _orders(b, c["C"], date(2026, 5, 1), date(2026, 5, 31), date(2026, 6, 10))
    # Usual gap 30; 60 days since > 45 but ≤ 90 → AT_RISK.
    _orders(b, c["D"], date(2026, 4, 1), date(2026, 5, 1))
    # Gap before the last order 30 → churn threshold 90; last order after 359 days, 5 days ago → REACTIVATED.
    _orders(b, c["E"], date(2025, 6, 1), date(2025, 7, 1), date(2026, 6, 25))
    # One order day: usual gap 90; 149 days since > 135, ≤ 270 → AT_RISK.
    _orders(b, c["F"], date(2026, 2, 1))
    # One order day 545 days ago > 270 → CHURNED.
    _orders(b, c["G"], date(2025, 1, 1))
    # H: no orders (prospect); J: only a cancelled order (prospect).
    _orders(b, c["J"], date(2026, 6, 1), status="CANCELLED")
    # I: erased, drops out.
    _orders(b, c["I"], date(2026, 6, 1))
    c["I"].erased_at = utc(2026, 6, 29)
    # Two orders on consecutive days: gap 1 raised to the 14-day floor; 40 days since > 21, ≤ 42 → AT_RISK.
    _orders(b, c["K"], date(2026, 5, 20), date(2026, 5, 21))
    b.commit()
    return store, c


def test_each_rule_as_of_a_day(session, shop):
    store, c = shop
    names = list("ABCDEFGHIJK")
    got = customer_stages(session, store, [c[n].id for n in names], AS_OF)
    assert dict(zip(names, got)) == {
        "A": S.NEW, "B": S.CHURNED, "C": S.ACTIVE, "D": S.AT_RISK, "E": S.REACTIVATED, "F": S.AT_RISK,
        "G": S.CHURNED, "H": None, "I": None, "J": None, "K": S.AT_RISK,
    }


def test_counts_over_time(session, shop):
    store, _ = shop
    points = stage_counts(session, store, make_range(date(2026, 6, 19), AS_OF, store.tz), Granularity.DAY)
    assert [p.label for p in points][:2] == ["2026-06-19", "2026-06-20"]
    last = points[-1]
    assert last.counts == {S.NEW: 1, S.ACTIVE: 1, S.AT_RISK: 3, S.CHURNED: 2, S.REACTIVATED: 1}
    assert last.buyers == 8
    # On 19 June, A had not ordered and E's comeback (25 June) had not happened: E had one gap of 30
    # days and 353 days since its last order > 90 → CHURNED. C: 9 days since, ACTIVE.
    first = points[0]
    assert first.buyers == 7
    assert first.counts[S.NEW] == 0 and first.counts[S.REACTIVATED] == 0
    assert first.counts[S.CHURNED] == 3  # B (110 days > 88.5), E, G
    # D: 49 days > 45 → AT_RISK; F: 138 > 135 → AT_RISK; K: 29 > 21 → AT_RISK.
    assert first.counts[S.AT_RISK] == 3
    assert first.counts[S.ACTIVE] == 1  # C


def test_p_alive_rule_uses_the_stores_model(session, store):
    b = StoreBuilder(session, store)
    m = b.customer(email="m@example.com")
    # Gap 89 days, 32 days since: ACTIVE by the gap rules.
    _orders(b, m, date(2026, 3, 1), date(2026, 5, 29))
    b.commit()
    assert customer_stages(session, store, [m.id], AS_OF) == [S.ACTIVE]
    # With r = α = a = b = 1 (weeks): x = 1, t_x = 89/7, T = 121/7,
    # P(alive) = 1 / (1 + ((1 + 121/7) / (1 + 89/7))²) = 1 / (1 + (128/96)²) = 0.36 → below 0.5: AT_RISK.
    session.add(ClvModel(store_id=store.id, status="READY", cutoff=AS_OF, time_unit_days=7,
                         bgnbd_params={"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}))
    session.commit()
    assert customer_stages(session, store, [m.id], AS_OF) == [S.AT_RISK]
    # A FAILED or NOT_ENOUGH_HISTORY fit is ignored.
    session.add(ClvModel(store_id=store.id, status="FAILED", cutoff=AS_OF, bgnbd_params=None))
    session.commit()
    assert customer_stages(session, store, [m.id], AS_OF) == [S.AT_RISK]


def test_local_days_of_the_store(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    b = StoreBuilder(session, store)
    late = b.customer(email="late@example.com")
    # 30 June 23:30 UTC is already 1 July in Warsaw: not a buyer as of 30 June.
    b.order(late, "5.00", utc(2026, 6, 30, 23, 30))
    b.commit()
    assert customer_stages(session, store, [late.id], AS_OF) == [None]
    assert customer_stages(session, store, [late.id], date(2026, 7, 1)) == [S.NEW]


def test_empty_store(session, store):
    points = stage_counts(session, store, make_range(date(2026, 6, 1), AS_OF, store.tz), Granularity.MONTH)
    assert len(points) == 1 and points[0].buyers == 0
