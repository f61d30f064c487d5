"""Cohort retention on a hand-built store."""

from datetime import date
from decimal import Decimal

from crm_graph.services.dates import make_range
from crm_graph.services.lifecycle.cohorts import cohort_matrix
from tests.factories import StoreBuilder, utc


def test_matrix_by_hand(session, store):
    b = StoreBuilder(session, store)
    a, bb, c, d, e, f, g = (b.customer(email=f"{n}@example.com") for n in "abcdefg")
    b.order(a, "100.00", utc(2026, 1, 5, 10))
    b.order(a, "50.00", utc(2026, 2, 10, 10))
    b.order(a, "999.00", utc(2026, 3, 25, 10))  # after the range: not counted
    first_b = b.order(bb, "30.00", utc(2026, 1, 20, 10))
    b.refund(first_b, "10.00", utc(2026, 1, 21))
    late_refunded = b.order(bb, "40.00", utc(2026, 3, 1, 10))
    b.refund(late_refunded, "5.00", utc(2026, 3, 25))  # issued after the range: not subtracted
    b.order(c, "70.00", utc(2026, 2, 3, 10))
    b.order(c, "30.00", utc(2026, 2, 20, 10))
    b.order(d, "20.00", utc(2025, 12, 31, 10))  # December cohort: outside the matrix
    b.order(d, "20.00", utc(2026, 1, 10, 10))
    b.order(e, "10.00", utc(2026, 3, 5, 10))
    b.order(e, "10.00", utc(2026, 3, 6, 10), status="CANCELLED")
    b.order(f, "80.00", utc(2026, 1, 7, 10))
    f.erased_at = utc(2026, 2, 1)
    b.order(g, "15.00", utc(2026, 3, 21, 10))  # first order after the range
    b.commit()

    cohorts = cohort_matrix(session, store, make_range(date(2026, 1, 15), date(2026, 3, 20), store.tz))

    assert [(k.month, k.size) for k in cohorts] == [(date(2026, 1, 1), 2), (date(2026, 2, 1), 1), (date(2026, 3, 1), 1)]
    january, february, march = cohorts
    assert [(x.months_since, x.customers, x.share, x.orders, x.revenue) for x in january.cells] == [
        (0, 2, 1.0, 2, Decimal("120.00")),  # a 100 + b (30 − 10)
        (1, 1, 0.5, 1, Decimal("50.00")),   # a
        (2, 1, 0.5, 1, Decimal("40.00")),   # b; a's 25 March order is after the range
    ]
    assert [(x.months_since, x.customers, x.share, x.orders, x.revenue) for x in february.cells] == [
        (0, 1, 1.0, 2, Decimal("100.00")), (1, 0, 0.0, 0, Decimal("0.00")),
    ]
    assert [(x.customers, x.orders, x.revenue) for x in march.cells] == [(1, 1, Decimal("10.00"))]


def test_local_months(session, make_store):
    store = make_store(timezone="America/New_York")
    b = StoreBuilder(session, store)
    x = b.customer(email="x@example.com")
    # 1 March 03:00 UTC is still 28 February in New York.
    b.order(x, "10.00", utc(2026, 3, 1, 3))
    b.order(x, "20.00", utc(2026, 3, 2, 12))
    b.commit()
    cohorts = cohort_matrix(session, store, make_range(date(2026, 2, 1), date(2026, 3, 31), store.tz))
    assert [(k.month, k.size) for k in cohorts] == [(date(2026, 2, 1), 1), (date(2026, 3, 1), 0)]
    assert [(x.customers, x.revenue) for x in cohorts[0].cells] == [(1, Decimal("10.00")), (1, Decimal("20.00"))]


def test_empty_store(session, store):
    cohorts = cohort_matrix(session, store, make_range(date(2026, 1, 1), date(2026, 2, 28), store.tz))
    assert [(k.size, [x.share for x in k.cells]) for k in cohorts] == [(0, [0.0, 0.0]), (0, [0.0])]
