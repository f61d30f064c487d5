"""Identified vs unidentified, spenders vs prospects, activity (docs/metrics.md, widgets D–F), worked out by hand."""

from datetime import date

import pytest

from crm_graph.services.analytics.customers import activity_buckets, identified_over_time, spenders_prospects
from crm_graph.services.analytics.precompute import precompute_range
from crm_graph.services.dates import DateRange, resolve_range
from tests.factories import StoreBuilder, utc

MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31))
Q1 = DateRange(date(2026, 1, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 15)


def build(session, store):
    """Customers created 2026-01-01 00:00 UTC (= 01:00 in Warsaw) unless said otherwise.

    a  email        COMPLETED 100 on 02-01; VISIT 03-23 23:30 UTC (= 24 March 00:30 local); VISIT 04-10
    b  phone        PENDING 50 and CANCELLED 70 on 02-01 (not counted); VISIT 03-23 22:30 UTC (= 23 March local)
    c  account      REFUNDED 80 on 03-10 (fully refunded: still a counted order, and an activity)
    d  anonymous    created 03-20; nothing else
    e  email        erased; COMPLETED 30 on 02-01: never counted
    f  email        PAID 40 on 04-05 (after the range); VISIT 02-28 22:30 UTC (= 28 Feb 23:30 local)
    g  anonymous    (email ''): FAILED order 01-15; last_activity_at 03-31 12:00 UTC without an event
    h  anonymous    created 03-29 21:30 UTC (= 29 March 23:30 local, the 23-hour day)
    i  anonymous    created 03-29 22:30 UTC (= 30 March 00:30 local)
    and a guest order without a customer (COMPLETED 999 on 03-05), which belongs to no one.
    """
    b = StoreBuilder(session, store)
    c = {
        "a": b.customer(email="a@example.com"),
        "b": b.customer(phone="+48500100200"),
        "c": b.customer(has_account=True),
        "d": b.customer(created_at=utc(2026, 3, 20)),
        "e": b.customer(email="e@example.com", erased_at=utc(2026, 3, 1)),
        "f": b.customer(email="f@example.com"),
        "g": b.customer(email="", last_activity_at=utc(2026, 3, 31, 12)),
        "h": b.customer(created_at=utc(2026, 3, 29, 21, 30)),
        "i": b.customer(created_at=utc(2026, 3, 29, 22, 30)),
    }
    b.order(c["a"], "100", utc(2026, 2, 1))
    b.order(c["b"], "50", utc(2026, 2, 1), "PENDING")
    b.order(c["b"], "70", utc(2026, 2, 1), "CANCELLED")
    refunded = b.order(c["c"], "80", utc(2026, 3, 10), "REFUNDED")
    b.refund(refunded, "80", utc(2026, 3, 12))
    b.order(c["e"], "30", utc(2026, 2, 1))
    b.order(c["f"], "40", utc(2026, 4, 5), "PAID")
    b.order(c["g"], "20", utc(2026, 1, 15), "FAILED")
    b.order(None, "999", utc(2026, 3, 5))
    b.activity(c["a"], "VISIT", utc(2026, 3, 23, 23, 30))
    b.activity(c["a"], "VISIT", utc(2026, 4, 10))
    b.activity(c["b"], "VISIT", utc(2026, 3, 23, 22, 30))
    b.activity(c["f"], "VISIT", utc(2026, 2, 28, 22, 30))
    b.commit()
    return c


@pytest.fixture
def warsaw(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    build(session, store)
    return store


def test_identified_over_time_by_month(session, warsaw):
    r = resolve_range(warsaw, Q1, today=TODAY)
    series = identified_over_time(session, warsaw, r, "MONTH")
    # Identified: a (email), b (phone), c (account), f (email); e is erased. Unidentified: g (empty email)
    # from January, d from 20 March, h and i from 29/30 March.
    assert [(p.label, p.identified, p.unidentified, p.customers) for p in series.points] == [
        ("2026-01", 4, 1, 5), ("2026-02", 4, 1, 5), ("2026-03", 4, 4, 8)]
    assert (series.customers, series.identified) == (8, 4)


def test_identified_day_series_across_spring_forward(session, warsaw):
    r = resolve_range(warsaw, DateRange(date(2026, 3, 28), date(2026, 3, 30)), today=TODAY)
    series = identified_over_time(session, warsaw, r, "DAY")
    # h was created at 23:30 local on the 29th (a 23-hour day), i at 00:30 local on the 30th.
    assert [p.unidentified for p in series.points] == [2, 3, 4]


def test_spenders_and_prospects(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    result = spenders_prospects(session, warsaw, r)
    # Spenders: a, and c (a refunded order is counted). Prospects: b (pending/cancelled only), d,
    # f (its order is after the range), g (failed order), h, i.
    assert (result.spenders, result.prospects, result.customers) == (2, 6, 8)
    before = resolve_range(warsaw, DateRange(date(2026, 3, 1), date(2026, 3, 9)), today=TODAY)
    # 9 March: c has not ordered yet; d, h and i do not exist yet.
    assert (spenders_prospects(session, warsaw, before).spenders,
            spenders_prospects(session, warsaw, before).prospects) == (1, 4)


def test_activity_buckets_with_default_windows(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    result = activity_buckets(session, warsaw, r)
    # ACTIVE = last activity 24..31 March (local): a (24th, exactly 7 days before), g (31st, column only).
    # LOW_RISK = 1..23 March: b (23rd, 8 days), c (its order on the 10th).
    # HIGH_RISK: d and h, i (never), f (28 February = 31 days; its April activity is after the range).
    assert (result.active, result.low_risk, result.high_risk, result.customers) == (2, 2, 4, 8)
    assert (result.active_days, result.low_risk_days) == (7, 30)


def test_activity_windows_are_store_settings(session, make_store):
    store = make_store(timezone="Europe/Warsaw", settings={"active_days": 3, "low_risk_days": 10})
    build(session, store)
    result = activity_buckets(session, store, resolve_range(store, MARCH, today=TODAY))
    # ACTIVE = 28..31 March: g. LOW_RISK = 21..27 March: a (24th), b (23rd). HIGH_RISK: c (10th), d, f, h, i.
    assert (result.active, result.low_risk, result.high_risk) == (1, 2, 5)
    assert (result.active_days, result.low_risk_days) == (3, 10)


def test_empty_store(session, make_store):
    store = make_store()
    r = resolve_range(store, MARCH, today=TODAY)
    assert identified_over_time(session, store, r, "WEEK").customers == 0
    assert spenders_prospects(session, store, r).customers == 0
    activity = activity_buckets(session, store, r)
    assert (activity.active, activity.low_risk, activity.high_risk) == (0, 0, 0)


def test_range_in_the_future(session, warsaw):
    r = resolve_range(warsaw, DateRange(date(2027, 1, 1), date(2027, 1, 31)), today=TODAY)
    # f's April order now makes it a spender; everyone's last activity is months old.
    assert spenders_prospects(session, warsaw, r).spenders == 3
    activity = activity_buckets(session, warsaw, r)
    assert (activity.active, activity.low_risk, activity.high_risk) == (0, 0, 8)


def test_precomputed_days_give_the_same_answers(session, warsaw):
    r = resolve_range(warsaw, Q1, today=TODAY)

    def everything():
        return (identified_over_time(session, warsaw, r, "DAY"), identified_over_time(session, warsaw, r, "MONTH"),
                spenders_prospects(session, warsaw, r), activity_buckets(session, warsaw, r))

    live = everything()
    precompute_range(session, warsaw, date(2026, 1, 1), date(2026, 3, 31))
    session.commit()
    assert everything() == live
    # After a settings change the precomputed activity buckets no longer apply: live again.
    warsaw.settings = {"active_days": 3, "low_risk_days": 10}
    session.add(warsaw)
    session.commit()
    assert activity_buckets(session, warsaw, resolve_range(warsaw, MARCH, today=TODAY)).active == 1
