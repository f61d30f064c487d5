"""Consent KPI cards, subscriptions over time and subscription × gender (docs/metrics.md, widgets A–C).

A Warsaw store (DST on 29 March 2026) whose expected counts are worked out by hand below.
"""

from datetime import date

import pytest
from sqlalchemy import update

from crm_graph.models import DailyConsentCount

from crm_graph.services.analytics.consent import (
    consent_by_gender,
    consent_counts_at,
    consent_kpis,
    subscriptions_over_time,
)
from crm_graph.services.analytics.precompute import precompute_range, refresh_stored
from crm_graph.services.dates import DateRange, resolve_range
from tests.factories import StoreBuilder, utc

MARCH = DateRange(date(2026, 3, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 15)


def build(session, store):
    """Eleven customers; created 2026-01-01 unless said otherwise.

    c1  F  EMAIL SUBSCRIBED 02-10, UNSUBSCRIBED 03-20
    c2  M  EMAIL SUBSCRIBED 03-15; SMS SUBSCRIBED 02-01
    c3  -  EMAIL INVALID 02-05 (bucket UNSUBSCRIBED)
    c4  F  EMAIL SUBSCRIBED 03-10 08:00 and UNSUBSCRIBED 03-10 12:00 UTC (twice in one day)
    c5  F  erased; EMAIL SUBSCRIBED 02-01: never counted
    c6  O  created 03-25; EMAIL PENDING 03-25 (bucket UNKNOWN)
    c7  R  created 03-05; EMAIL SUBSCRIBED 01-15 (before creation: counts from 03-05)
    c8  M  EMAIL SUBSCRIBED 2026-03-29 22:30 UTC = 30 March 00:30 in Warsaw
    c9  F  EMAIL SUBSCRIBED and UNSUBSCRIBED at the same instant 02-20 12:00 (the later id wins)
    c10 -  unidentified visitor, no consent (UNKNOWN)
    c11 F  EMAIL SUBSCRIBED 2026-03-29 21:30 UTC = 29 March 23:30 in Warsaw
    """
    b = StoreBuilder(session, store)
    c = {i: b.customer(email=None if i == 10 else f"c{i}@example.com",
                       gender={1: "FEMALE", 2: "MALE", 4: "FEMALE", 5: "FEMALE", 6: "OTHER", 7: "REFUSED",
                               8: "MALE", 9: "FEMALE", 11: "FEMALE"}.get(i, "UNKNOWN"),
                       created_at={6: utc(2026, 3, 25), 7: utc(2026, 3, 5)}.get(i, utc(2026, 1, 1)),
                       erased_at=utc(2026, 3, 1) if i == 5 else None)
         for i in range(1, 12)}
    b.consent(c[1], "EMAIL", "SUBSCRIBED", utc(2026, 2, 10))
    b.consent(c[1], "EMAIL", "UNSUBSCRIBED", utc(2026, 3, 20, 10))
    b.consent(c[2], "EMAIL", "SUBSCRIBED", utc(2026, 3, 15))
    b.consent(c[2], "SMS", "SUBSCRIBED", utc(2026, 2, 1))
    b.consent(c[3], "EMAIL", "INVALID", utc(2026, 2, 5))
    b.consent(c[4], "EMAIL", "SUBSCRIBED", utc(2026, 3, 10, 8))
    b.consent(c[4], "EMAIL", "UNSUBSCRIBED", utc(2026, 3, 10, 12))
    b.consent(c[5], "EMAIL", "SUBSCRIBED", utc(2026, 2, 1))
    b.consent(c[6], "EMAIL", "PENDING", utc(2026, 3, 25))
    b.consent(c[7], "EMAIL", "SUBSCRIBED", utc(2026, 1, 15))
    b.consent(c[8], "EMAIL", "SUBSCRIBED", utc(2026, 3, 29, 22, 30))
    b.consent(c[9], "EMAIL", "SUBSCRIBED", utc(2026, 2, 20, 12))
    b.consent(c[9], "EMAIL", "UNSUBSCRIBED", utc(2026, 2, 20, 12))
    b.consent(c[11], "EMAIL", "SUBSCRIBED", utc(2026, 3, 29, 21, 30))
    b.commit()
    return c


@pytest.fixture
def warsaw(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    build(session, store)
    return store


def kpi_table(kpis):
    return {(k.channel.value, k.bucket.value): (k.change.value, k.change.previous, k.change.absolute,
                                                 k.change.relative) for k in kpis}


# End of 31 March: 10 customers (c5 erased). EMAIL: SUBSCRIBED c2 c7 c8 c11; UNSUBSCRIBED c1 c3 c4 c9;
# UNKNOWN c6 c10. SMS: SUBSCRIBED c2, the 9 others UNKNOWN.
# End of 1 March (30 days before): 8 customers (not c6, c7). EMAIL: SUBSCRIBED c1; UNSUBSCRIBED c3 c9;
# UNKNOWN c2 c4 c8 c10 c11. SMS: SUBSCRIBED c2, 7 UNKNOWN.
EXPECTED_KPIS = {
    ("EMAIL", "SUBSCRIBED"): (4, 1, 3, 3.0),
    ("EMAIL", "UNSUBSCRIBED"): (4, 2, 2, 1.0),
    ("EMAIL", "UNKNOWN"): (2, 5, -3, -0.6),
    ("SMS", "SUBSCRIBED"): (1, 1, 0, 0.0),
    ("SMS", "UNSUBSCRIBED"): (0, 0, 0, None),
    ("SMS", "UNKNOWN"): (9, 7, 2, 2 / 7),
}


def test_kpi_cards(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    kpis = consent_kpis(session, warsaw, r)
    assert kpi_table(kpis) == EXPECTED_KPIS
    assert {k.compared_day for k in kpis} == {date(2026, 3, 1)}


def test_series_across_spring_forward(session, warsaw):
    r = resolve_range(warsaw, DateRange(date(2026, 3, 28), date(2026, 3, 31)), today=TODAY)
    points = subscriptions_over_time(session, warsaw, r, "DAY")
    email = [(p.label, p.subscribed, p.unsubscribed, p.unknown) for p in points if p.channel.value == "EMAIL"]
    # 28th: SUBSCRIBED c2 c7; UNSUBSCRIBED c1 c3 c4 c9; UNKNOWN c6 c8 c10 c11.
    # 29th (a 23-hour day ending 21:59:59 UTC): c11 subscribed at 23:30 local. 30th: c8 at 00:30 local.
    assert email == [
        ("2026-03-28", 2, 4, 4),
        ("2026-03-29", 3, 4, 3),
        ("2026-03-30", 4, 4, 2),
        ("2026-03-31", 4, 4, 2),
    ]
    sms = [(p.subscribed, p.unsubscribed, p.unknown) for p in points if p.channel.value == "SMS"]
    assert sms == [(1, 0, 9)] * 4


def test_consent_changed_twice_in_one_day_counts_the_last_state(session, warsaw):
    r = resolve_range(warsaw, DateRange(date(2026, 3, 9), date(2026, 3, 10)), today=TODAY)
    email = [p for p in subscriptions_over_time(session, warsaw, r) if p.channel.value == "EMAIL"]
    # 9th: SUBSCRIBED c1 c7; UNSUBSCRIBED c3 c9; UNKNOWN c2 c4 c8 c10 c11 (c6 not created yet).
    # 10th: c4 subscribed and unsubscribed that day: UNSUBSCRIBED.
    assert [(p.subscribed, p.unsubscribed, p.unknown) for p in email] == [(2, 2, 5), (2, 3, 4)]


def test_weekly_series_is_as_of_the_end_of_each_week(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    email = [p for p in subscriptions_over_time(session, warsaw, r, "WEEK") if p.channel.value == "EMAIL"]
    # Weeks end on Sundays 1, 8, 15, 22, 29 March, then the partial week ends on the 31st.
    assert [(p.label, p.last_day.day) for p in email] == [
        ("2026-W09", 1), ("2026-W10", 8), ("2026-W11", 15), ("2026-W12", 22), ("2026-W13", 29), ("2026-W14", 31)]
    # 8th: c7 created on the 5th adds a SUBSCRIBED; 15th: c2 subscribes, c4 unsubscribed on the 10th;
    # 22nd: c1 unsubscribed on the 20th; 29th: c6 (PENDING) created, c11 subscribed; 31st: c8.
    assert [(p.subscribed, p.unsubscribed, p.unknown) for p in email] == [
        (1, 2, 5), (2, 2, 5), (3, 3, 3), (2, 4, 3), (3, 4, 3), (4, 4, 2)]


def test_subscription_by_gender(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    rows = {(row.channel.value, row.gender.value): (row.subscribed, row.unsubscribed, row.unknown)
            for row in consent_by_gender(session, warsaw, r)}
    assert rows == {
        ("EMAIL", "FEMALE"): (1, 3, 0),   # c11 | c1 c4 c9
        ("EMAIL", "MALE"): (2, 0, 0),     # c2 c8
        ("EMAIL", "OTHER"): (0, 0, 1),    # c6
        ("EMAIL", "UNKNOWN"): (0, 1, 1),  # c3 | c10
        ("EMAIL", "REFUSED"): (1, 0, 0),  # c7
        ("SMS", "FEMALE"): (0, 0, 4),
        ("SMS", "MALE"): (1, 0, 1),
        ("SMS", "OTHER"): (0, 0, 1),
        ("SMS", "UNKNOWN"): (0, 0, 2),
        ("SMS", "REFUSED"): (0, 0, 1),
    }


def test_range_in_the_future_shows_the_current_state(session, warsaw):
    r = resolve_range(warsaw, DateRange(date(2027, 1, 1), date(2027, 1, 31)), today=TODAY)
    table = kpi_table(consent_kpis(session, warsaw, r))
    assert table[("EMAIL", "SUBSCRIBED")] == (4, 4, 0, 0.0)
    assert table[("SMS", "UNKNOWN")] == (9, 9, 0, 0.0)


def test_empty_store(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    r = resolve_range(store, MARCH, today=TODAY)
    assert {v for v in kpi_table(consent_kpis(session, store, r)).values()} == {(0, 0, 0, None)}
    points = subscriptions_over_time(session, store, r, "MONTH")
    assert [(p.subscribed, p.unsubscribed, p.unknown) for p in points] == [(0, 0, 0)] * 2
    assert {(row.subscribed, row.unsubscribed, row.unknown) for row in consent_by_gender(session, store, r)} == {(0, 0, 0)}


def test_precomputed_days_give_the_same_answers_and_are_used(session, warsaw):
    r = resolve_range(warsaw, MARCH, today=TODAY)
    live = (consent_kpis(session, warsaw, r), subscriptions_over_time(session, warsaw, r, "DAY"),
            subscriptions_over_time(session, warsaw, r, "WEEK"), consent_by_gender(session, warsaw, r))
    refresh_stored(session, warsaw, date(2026, 3, 1), date(2026, 3, 31))
    session.commit()
    stored = (consent_kpis(session, warsaw, r), subscriptions_over_time(session, warsaw, r, "DAY"),
              subscriptions_over_time(session, warsaw, r, "WEEK"), consent_by_gender(session, warsaw, r))
    assert stored == live
    assert kpi_table(stored[0]) == EXPECTED_KPIS
    # Proof that the daily rows are read: a stored count changed by hand shows.
    marked = update(DailyConsentCount).where(
        DailyConsentCount.store_id == warsaw.id, DailyConsentCount.day == date(2026, 3, 31),
        DailyConsentCount.channel == "EMAIL", DailyConsentCount.bucket == "SUBSCRIBED").values(customers=99)
    session.execute(marked)
    session.commit()
    assert kpi_table(consent_kpis(session, warsaw, r))[("EMAIL", "SUBSCRIBED")][0] == 99
    # A change dated inside the precomputed days makes them stale: the answer is live at once.
    b = StoreBuilder(session, warsaw)
    b.consent(b.customer(email="late@example.com"), "EMAIL", "SUBSCRIBED", utc(2026, 3, 2))
    b.commit()
    assert kpi_table(consent_kpis(session, warsaw, r))[("EMAIL", "SUBSCRIBED")][0] == 5
    live_now = consent_counts_at(session, warsaw, [r.end])[0]
    assert live_now[("EMAIL", None, "SUBSCRIBED")] == 5


def test_a_day_not_precomputed_falls_back_to_live(session, warsaw):
    precompute_range(session, warsaw, date(2026, 3, 2), date(2026, 3, 31))  # not the 1st (comparison day)
    session.commit()
    b = StoreBuilder(session, warsaw)
    b.consent(b.customer(email="late@example.com"), "EMAIL", "SUBSCRIBED", utc(2026, 3, 2))
    b.commit()
    r = resolve_range(warsaw, MARCH, today=TODAY)
    # Live, so the late customer is in: 5 subscribed at the end, still 1 on 1 March.
    assert kpi_table(consent_kpis(session, warsaw, r))[("EMAIL", "SUBSCRIBED")] == (5, 1, 4, 4.0)


def test_a_thousand_daily_points(session, warsaw):
    from datetime import timedelta

    from crm_graph.services.analytics.customers import identified_over_time

    first = date(2026, 3, 31) - timedelta(days=999)
    r = resolve_range(warsaw, DateRange(first, date(2026, 3, 31)), today=TODAY)
    email = [p for p in subscriptions_over_time(session, warsaw, r, "DAY") if p.channel.value == "EMAIL"]
    assert len(email) == 1000
    assert (email[-1].subscribed, email[-1].unsubscribed, email[-1].unknown) == (4, 4, 2)
    assert (email[0].subscribed, email[0].unsubscribed, email[0].unknown) == (0, 0, 0)  # before anyone existed
    assert identified_over_time(session, warsaw, r, "DAY").points[-1].customers == 10
