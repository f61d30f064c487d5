"""Spender segments by value and frequency and their thresholds (docs/metrics.md, widget G), worked out by hand."""

from datetime import date
from decimal import Decimal

from sqlmodel import select

from crm_graph.models import DailySpenderThresholds
from crm_graph.services.analytics.precompute import precompute_day
from crm_graph.services.analytics.spenders import spender_segments, spender_segments_query
from crm_graph.services.dates import DateRange, resolve_range
from tests.factories import StoreBuilder, utc

MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 15)


def build(session, store):
    """Seven spenders as of 31 March with net revenue 10, 20, 30, 35, 40, 50, 60, and noise around them.

    s1 10 (1 order); its CANCELLED 500 order does not count
    s2 20 (1 order); its 100 order on 2 April is after the range
    s3 30 = 15 + 15 (2 orders)
    s4 40 = 10 + 20 + 10 (3 orders)
    s5 50 = 100 REFUNDED − 50 refunded on 15 March; another 30 refunded on 10 April is after the range
    s6 60 = 30 + 30 (2 orders)
    s7 35 = 7 × 5 (7 orders)
    an erased customer with 1000, a prospect, and a guest order of 999 without a customer.
    """
    b = StoreBuilder(session, store)
    s = {i: b.customer(email=f"s{i}@example.com") for i in range(1, 8)}
    b.order(s[1], "10.00", utc(2026, 2, 1))
    b.order(s[1], "500.00", utc(2026, 2, 2), "CANCELLED")
    b.order(s[2], "20.00", utc(2026, 2, 1), "PAID")
    b.order(s[2], "100.00", utc(2026, 4, 2))
    b.order(s[3], "15.00", utc(2026, 2, 1))
    b.order(s[3], "15.00", utc(2026, 2, 3))
    for total in ("10.00", "20.00", "10.00"):
        b.order(s[4], total, utc(2026, 1, 10))
    refunded = b.order(s[5], "100.00", utc(2026, 3, 1), "REFUNDED")
    b.refund(refunded, "50.00", utc(2026, 3, 15))
    b.refund(refunded, "30.00", utc(2026, 4, 10))
    b.order(s[6], "30.00", utc(2026, 1, 5))
    b.order(s[6], "30.00", utc(2026, 3, 31, 23, 59))
    for day in range(1, 8):
        b.order(s[7], "5.00", utc(2026, 3, day))
    b.order(b.customer(email="gone@example.com", erased_at=utc(2026, 3, 1)), "1000.00", utc(2026, 2, 1))
    b.customer(email="prospect@example.com")
    b.order(None, "999.00", utc(2026, 3, 5))
    b.commit()
    return s


def figures(result):
    return (result.spenders, result.value_low, result.value_high, result.frequent_threshold,
            result.small, result.medium, result.big, result.one_time, result.repeat, result.frequent)


def test_segments_and_thresholds(session, make_store):
    store = make_store()
    build(session, store)
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    # Sorted: 10 20 30 35 40 50 60 (n = 7). 50th: rank 0.5 × 6 = 3 -> 35. 80th: rank 4.8 -> 40 + 0.8 × 10 = 48.
    # SMALL < 35: 10 20 30; MEDIUM 35..<48: 35 (equal to the threshold: upper segment) 40; BIG: 50 60.
    # 2+ orders: s3 2, s4 3, s6 2, s7 7 -> mean 14 / 4 = 3.5 -> 4. ONE_TIME s1 s2 s5; REPEAT s3 s4 s6; FREQUENT s7.
    assert figures(result) == (7, Decimal("35.00"), Decimal("48.00"), 4, 3, 2, 2, 3, 3, 1)
    assert (result.low_percentile, result.high_percentile) == (50.0, 80.0)


def test_each_customer_segment(session, make_store):
    store = make_store()
    s = build(session, store)
    rows = session.execute(spender_segments_query(store, date(2026, 3, 31))).all()
    got = {customer_id: (value, frequency) for customer_id, value, frequency in rows}
    assert got == {
        s[1].id: ("SMALL", "ONE_TIME"), s[2].id: ("SMALL", "ONE_TIME"), s[3].id: ("SMALL", "REPEAT"),
        s[4].id: ("MEDIUM", "REPEAT"), s[5].id: ("BIG", "ONE_TIME"), s[6].id: ("BIG", "REPEAT"),
        s[7].id: ("MEDIUM", "FREQUENT"),
    }


def test_percentiles_and_minimum_are_store_settings(session, make_store):
    store = make_store(settings={"value_percentiles": [25, 75], "frequent_min_orders": 5})
    build(session, store)
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    # 25th: rank 1.5 -> 20 + 0.5 × 10 = 25; 75th: rank 4.5 -> 40 + 0.5 × 10 = 45.
    # SMALL 10 20; MEDIUM 30 35 40; BIG 50 60. Frequent threshold max(4, 5) = 5: s7 alone is FREQUENT.
    assert figures(result) == (7, Decimal("25.00"), Decimal("45.00"), 5, 2, 3, 2, 3, 3, 1)


def test_fractional_threshold_is_rounded_up_to_the_cent(session, make_store):
    store = make_store()
    b = StoreBuilder(session, store)
    b.order(b.customer(), "10.01", utc(2026, 3, 1))
    b.order(b.customer(), "10.02", utc(2026, 3, 1))
    b.commit()
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    # 50th: 10.015 -> 10.02; 80th: 10.01 + 0.8 × 0.01 = 10.018 -> 10.02. 10.01 SMALL, 10.02 BIG.
    # Only one-time buyers: the frequent threshold is the minimum, 3.
    assert figures(result) == (2, Decimal("10.02"), Decimal("10.02"), 3, 1, 0, 1, 2, 0, 0)


def test_ties_at_the_threshold_go_up(session, make_store):
    store = make_store()
    b = StoreBuilder(session, store)
    for total in ("10.00", "10.00", "10.00", "20.00"):
        b.order(b.customer(), total, utc(2026, 3, 1))
    b.commit()
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    # 50th: rank 1.5 between two 10s -> 10: every 10 is MEDIUM, none SMALL. 80th: rank 2.4 -> 10 + 0.4 × 10 = 14.
    assert figures(result)[:7] == (4, Decimal("10.00"), Decimal("14.00"), 3, 0, 3, 1)


def test_empty_store(session, make_store):
    store = make_store()
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    assert figures(result) == (0, None, None, 3, 0, 0, 0, 0, 0, 0)


def test_as_of_an_earlier_day(session, make_store):
    store = make_store()
    build(session, store)
    result = spender_segments(session, store, resolve_range(store, DateRange(date(2026, 1, 1), date(2026, 2, 1)), today=TODAY))
    # End of 1 February: s1 10, s2 20, s3 15 (one order), s4 40 (3 orders), s6 30.
    # Sorted 10 15 20 30 40: 50th rank 2 -> 20; 80th rank 3.2 -> 30 + 0.2 × 10 = 32.
    # SMALL 10 15; MEDIUM 20 30; BIG 40. 2+ orders: s4 only (3) -> threshold 3: s4 FREQUENT.
    assert figures(result) == (5, Decimal("20.00"), Decimal("32.00"), 3, 2, 2, 1, 4, 0, 1)


def test_precomputed_day_gives_the_same_answer(session, make_store):
    store = make_store()
    build(session, store)
    r = resolve_range(store, MARCH, today=TODAY)
    live = spender_segments(session, store, r)
    precompute_day(session, store, date(2026, 3, 31))
    session.commit()
    row = session.exec(select(DailySpenderThresholds).where(DailySpenderThresholds.store_id == store.id)).one()
    assert (row.value_low, row.value_high, row.frequent_threshold, row.small) == (Decimal("35.00"), Decimal("48.00"), 4, 3)
    assert spender_segments(session, store, r) == live
    precompute_day(session, store, date(2026, 3, 31))  # idempotent
    session.commit()
    assert spender_segments(session, store, r) == live


def test_the_frequent_threshold_is_a_whole_number_of_orders(session, make_store):
    # Customers with 4, 5 and 6 orders: mean 5, so 5 orders is FREQUENT. (PostgreSQL once compared the
    # order counts with an unrounded 5.67, a sum of integers being numeric there.)
    store = make_store()
    b = StoreBuilder(session, store)
    for n in (4, 5, 6):
        customer = b.customer(email=f"c{n}@example.com")
        for day in range(1, n + 1):
            b.order(customer, "10.00", utc(2026, 3, day))
    b.order(customer, "10.00", utc(2026, 4, 2))  # after the range: the figures are corrected for it
    b.commit()
    result = spender_segments(session, store, resolve_range(store, MARCH, today=TODAY))
    assert (result.frequent_threshold, result.one_time, result.repeat, result.frequent) == (5, 0, 1, 2)
