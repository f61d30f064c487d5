"""Purchase rhythm on a hand-built store."""

from datetime import date

import pytest

from crm_graph.services.dates import make_range
from crm_graph.services.lifecycle.rhythm import purchase_rhythm
from tests.factories import StoreBuilder, utc

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def test_rhythm_by_hand(session, store):
    b = StoreBuilder(session, store)
    a, bb, c, d, e, f, g = (b.customer(email=f"{n}@example.com") for n in "abcdefg")
    for day in (utc(2026, 1, 1, 9), utc(2026, 2, 15, 9), utc(2026, 3, 2, 9), utc(2026, 3, 2, 18), utc(2026, 3, 12, 9)):
        b.order(a, "10.00", day)  # order days 1 Jan, 15 Feb, 2 Mar (twice), 12 Mar: gaps in March 15, 10
    b.order(bb, "10.00", utc(2026, 3, 5, 9))
    b.order(bb, "10.00", utc(2026, 3, 25, 9))  # gap 20
    b.order(c, "10.00", utc(2026, 3, 10, 9))  # one order: no gap
    b.order(d, "10.00", utc(2026, 1, 1, 9))
    b.order(d, "10.00", utc(2026, 2, 1, 9))  # no order in March
    b.order(e, "10.00", utc(2026, 2, 20, 9))
    b.order(e, "10.00", utc(2026, 4, 5, 9))  # after the range
    b.order(f, "10.00", utc(2026, 3, 1, 9))
    b.order(f, "10.00", utc(2026, 3, 3, 9))
    f.erased_at = utc(2026, 3, 31)
    b.order(g, "10.00", utc(2026, 2, 1, 9))
    b.order(g, "10.00", utc(2026, 3, 15, 9), status="CANCELLED")
    b.order(g, "10.00", utc(2026, 3, 20, 9))  # gap 47 (the cancelled order does not count)
    b.commit()

    got = purchase_rhythm(session, store, make_range(*MARCH, store.tz))

    assert got.gaps == 4  # 15, 10, 20, 47
    assert got.average_days_between_orders == pytest.approx(23.0)
    assert got.median_days_between_orders == pytest.approx(17.5)
    assert got.repeat_buyers == 3  # a (70 days), b (20), g (47)
    assert got.average_lifetime_days == pytest.approx(45.6667)


def test_odd_number_of_gaps_and_no_repeat_buyers(session, store):
    b = StoreBuilder(session, store)
    x, y = b.customer(email="x@example.com"), b.customer(email="y@example.com")
    for day in (1, 4, 14):  # gaps 3 and 10
        b.order(x, "5.00", utc(2026, 3, day, 9))
    b.order(y, "5.00", utc(2026, 3, 9, 9))
    b.commit()
    got = purchase_rhythm(session, store, make_range(*MARCH, store.tz))
    assert (got.gaps, got.median_days_between_orders, got.average_days_between_orders) == (2, 6.5, 6.5)
    only_y = purchase_rhythm(session, store, make_range(date(2026, 3, 9), date(2026, 3, 9), store.tz))
    assert only_y.gaps == 0 and only_y.median_days_between_orders is None
    assert only_y.average_days_between_orders is None and only_y.average_lifetime_days is None


def test_empty_store(session, store):
    got = purchase_rhythm(session, store, make_range(*MARCH, store.tz))
    assert (got.gaps, got.repeat_buyers, got.average_lifetime_days) == (0, 0, None)
