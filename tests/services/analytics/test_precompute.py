"""Filling the daily tables: every table, every day, idempotent, in chunks, with progress."""

from datetime import date, timedelta

import pytest

from sqlalchemy import func, select

from crm_graph.models import (
    DailyConsentCount,
    DailyConsentGenderCount,
    DailyCustomerCount,
    DailySpenderThresholds,
    DailyTagCount,
)
from crm_graph.services.analytics import precompute
from crm_graph.services.analytics.customers import activity_at, customer_counts_at
from crm_graph.services.analytics.spenders import spender_segments_at
from crm_graph.services.analytics.tags import tag_counts_at
from crm_graph.services.analytics.precompute import precompute_day, precompute_range
from crm_graph.services.dates import day_end
from tests.factories import StoreBuilder, utc


def build(session, store):
    b = StoreBuilder(session, store)
    anna = b.customer(email="anna@example.com", gender="FEMALE", created_at=utc(2026, 3, 1))
    visitor = b.customer(created_at=utc(2026, 3, 3))
    b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2026, 3, 2, 12))
    b.order(anna, "40.00", utc(2026, 3, 4, 9))
    b.activity(visitor, "VISIT", utc(2026, 3, 3, 10))
    b.tag(anna, "vip", utc(2026, 3, 2), removed_at=utc(2026, 3, 4))
    b.commit()


def counts(session, store, table):
    return session.execute(select(func.count()).select_from(table).where(table.store_id == store.id)).scalar_one()


def test_every_table_every_day_in_chunks_with_progress(session, make_store, monkeypatch):
    store = make_store(timezone="Europe/Warsaw")
    build(session, store)
    monkeypatch.setattr(precompute, "CHUNK_DAYS", 2)
    calls = []
    summary = precompute_range(session, store, date(2026, 3, 1), date(2026, 3, 5), progress=lambda d, t: calls.append((d, t)))
    session.commit()
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert summary.counts["days"] == 5 and summary.errors == []
    # Per day: 6 consent rows (2 channels × 3 buckets), 30 with gender, 1 customer row, 1 threshold row;
    # the vip tag is on Anna at the end of the 2nd and the 3rd only.
    assert [counts(session, store, t) for t in (DailyConsentCount, DailyConsentGenderCount, DailyCustomerCount,
                                                  DailySpenderThresholds, DailyTagCount)] == [30, 150, 5, 5, 2]
    rows = session.exec(select(DailyCustomerCount).where(DailyCustomerCount.store_id == store.id)
                        .order_by(DailyCustomerCount.day)).all()
    by_day = {row[0].day: row[0] for row in rows}
    # Anna exists from 1 March (01:00 local), the visitor from the 3rd; Anna spends on the 4th.
    assert [(by_day[date(2026, 3, d)].customers, by_day[date(2026, 3, d)].identified,
             by_day[date(2026, 3, d)].spenders) for d in range(1, 6)] == [(1, 1, 0), (1, 1, 0), (2, 1, 0), (2, 1, 1), (2, 1, 1)]
    for day, row in by_day.items():
        live = customer_counts_at(session, store, [day_end(day, store.tz)])[0]
        activity = activity_at(session, store, day)
        assert (row.customers, row.identified, row.spenders) == (live.customers, live.identified, live.spenders)
        assert (row.active, row.low_risk, row.high_risk) == (activity.active, activity.low_risk, activity.high_risk)
    subscribed = session.execute(select(DailyConsentCount.day, DailyConsentCount.customers).where(
        DailyConsentCount.store_id == store.id, DailyConsentCount.channel == "EMAIL",
        DailyConsentCount.bucket == "SUBSCRIBED").order_by(DailyConsentCount.day)).all()
    assert [n for _, n in subscribed] == [0, 1, 1, 1, 1]


def test_recomputing_replaces_the_rows(session, make_store):
    store = make_store()
    build(session, store)
    precompute_day(session, store, date(2026, 3, 5))
    session.commit()
    StoreBuilder(session, store).customer(created_at=utc(2026, 3, 5, 8))
    session.commit()
    precompute_day(session, store, date(2026, 3, 5))
    session.commit()
    assert counts(session, store, DailyCustomerCount) == 1
    row = session.exec(select(DailyCustomerCount).where(DailyCustomerCount.store_id == store.id)).one()[0]
    assert row.customers == 3


def test_an_empty_store_gets_zero_rows_that_mark_the_day(session, make_store):
    store = make_store()
    precompute_range(session, store, date(2026, 3, 1), date(2026, 3, 1) + timedelta(days=1))
    session.commit()
    assert counts(session, store, DailyCustomerCount) == 2
    assert counts(session, store, DailyConsentCount) == 12


def test_days_after_the_newest_precomputed_one_are_brought_forward_exactly(session, make_store, monkeypatch):
    """Today is not precomputed: its consent and customer counts are the newest precomputed day's plus
    what happened since, and they equal the live computation (consent in every bucket, with and
    without gender; customers, identified, spenders)."""
    from crm_graph.services.analytics import consent
    from crm_graph.services.analytics import customers as customers_module

    store = make_store(timezone="Europe/Warsaw")
    b = StoreBuilder(session, store)
    anna = b.customer(email="anna@example.com", gender="FEMALE", created_at=utc(2026, 3, 1))
    bob = b.customer(email="bob@example.com", gender="MALE", created_at=utc(2026, 3, 1))
    cleo = b.customer(gender="OTHER", created_at=utc(2026, 3, 2))
    b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2026, 3, 2, 12))
    b.consent(bob, "SMS", "SUBSCRIBED", utc(2026, 3, 2, 13))
    b.commit()
    precompute.refresh_stored(session, store, date(2026, 3, 1), date(2026, 3, 4))
    session.commit()
    # After the newest precomputed day (4 March): Anna unsubscribes and resubscribes on the 5th (two
    # events at one instant: the later id wins), Bob's SMS turns invalid, Cleo (no earlier event)
    # subscribes, Dora is created with a consent given before her account, Ed is created without any.
    b.consent(anna, "EMAIL", "UNSUBSCRIBED", utc(2026, 3, 5, 8))
    b.consent(anna, "EMAIL", "PENDING", utc(2026, 3, 5, 9))
    b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2026, 3, 5, 9))
    b.consent(bob, "SMS", "INVALID", utc(2026, 3, 6, 10))
    b.consent(cleo, "EMAIL", "SUBSCRIBED", utc(2026, 3, 6, 22, 30))  # 7 March, local time
    dora = b.customer(email="dora@example.com", gender="FEMALE", created_at=utc(2026, 3, 5, 12))
    b.consent(dora, "SMS", "SUBSCRIBED", utc(2026, 3, 4, 12))
    b.customer(created_at=utc(2026, 3, 6, 9))
    b.order(bob, "12.00", utc(2026, 3, 5, 10))   # Bob's first order: a spender from the 5th
    b.order(dora, "30.00", utc(2026, 3, 7, 10))  # a new customer who buys
    b.order(cleo, "5.00", utc(2026, 3, 6, 9), status="CANCELLED")  # not counted: Cleo stays a prospect
    b.commit()
    live_calls = []
    monkeypatch.setattr(consent, "consent_counts_at",
                        lambda *a, **k: live_calls.append(1) or pytest.fail("computed over the whole history"))
    days = [date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7)]
    for by_gender in (False, True):
        got = consent.consent_counts_for_days(session, store, days, by_gender=by_gender)
        monkeypatch.undo()
        live = consent.consent_counts_at(session, store, [day_end(d, store.tz) for d in days], by_gender=by_gender)
        for day, expected in zip(days, live):
            assert {k: v for k, v in got[day].items() if k in expected} == expected, day
        monkeypatch.setattr(consent, "consent_counts_at", lambda *a, **k: pytest.fail("computed live"))
    assert got[date(2026, 3, 7)][("EMAIL", None, "SUBSCRIBED")] == 2
    monkeypatch.setattr(customers_module, "customer_counts_at", lambda *a, **k: pytest.fail("computed live"))
    people = customers_module.customer_counts_for_days(session, store, days)
    monkeypatch.undo()
    assert [people[d] for d in days] == customer_counts_at(session, store, [day_end(d, store.tz) for d in days])
    assert (people[date(2026, 3, 7)].customers, people[date(2026, 3, 7)].identified,
            people[date(2026, 3, 7)].spenders) == (5, 3, 2)
    assert got[date(2026, 3, 7)][("SMS", None, "UNSUBSCRIBED")] == 1
    assert got[date(2026, 3, 7)][("SMS", "FEMALE", "SUBSCRIBED")] == 1


def test_a_gap_longer_than_the_catch_up_window_is_computed_live(session, make_store, monkeypatch):
    from crm_graph.services.analytics import consent, daily

    store = make_store()
    build(session, store)
    precompute_day(session, store, date(2026, 3, 1))
    session.commit()
    live = []
    real = consent.consent_counts_at
    monkeypatch.setattr(consent, "consent_counts_at", lambda *a, **k: live.append(1) or real(*a, **k))
    consent.consent_counts_for_days(session, store, [date(2026, 3, 1) + timedelta(days=daily.CATCH_UP_DAYS)])
    assert live == []
    consent.consent_counts_for_days(session, store, [date(2026, 3, 1) + timedelta(days=daily.CATCH_UP_DAYS + 1)])
    assert live == [1]


def build_history(session, store):
    """Two months around the spring DST change of Warsaw (29 March 2026) with every kind of change a
    running state must follow: refunds issued days after their order (and one dated before it),
    cancelled orders, a guest order, an erased spender, customers created mid-range, activity from
    events, orders and the recorded last activity, tags put on, taken off and put on again."""
    b = StoreBuilder(session, store)
    anna = b.customer(email="anna@example.com", created_at=utc(2026, 2, 1))
    bob = b.customer(phone="+48500100200", created_at=utc(2026, 2, 10))
    cara = b.customer(created_at=utc(2026, 3, 20, 23, 30))  # 21 March, 00:30 in Warsaw
    dan = b.customer(email="dan@example.com", created_at=utc(2026, 3, 28, 22, 30),  # 29 March locally
                     last_activity_at=utc(2026, 3, 29, 21, 59))
    gone = b.customer(email="gone@example.com", created_at=utc(2026, 2, 1), erased_at=utc(2026, 3, 25))
    spenders = [b.customer(created_at=utc(2026, 2, 1 + i)) for i in range(6)]
    first = b.order(anna, "100.00", utc(2026, 2, 5, 10))
    b.refund(first, "30.00", utc(2026, 3, 22, 12))  # issued weeks later, inside the range
    b.refund(first, "10.00", utc(2026, 3, 29, 0, 30))  # the night of the clock change
    b.order(anna, "40.00", utc(2026, 3, 24, 9))
    b.order(anna, "55.00", utc(2026, 3, 30, 9), status="CANCELLED")
    late = b.order(bob, "80.00", utc(2026, 3, 26, 15))
    b.refund(late, "5.00", utc(2026, 3, 25, 8))  # dated before its order: counts from the order on
    b.refund(late, "80.00", utc(2026, 4, 2, 8))
    b.order(bob, "20.00", utc(2026, 3, 21, 22, 30))  # 21 March, 23:30 in Warsaw
    b.order(cara, "60.00", utc(2026, 3, 23, 12))
    b.order(cara, "60.00", utc(2026, 3, 27, 12))
    b.order(cara, "15.00", utc(2026, 3, 31, 12), status="PENDING")
    b.order(None, "999.00", utc(2026, 3, 24, 12))  # a guest
    b.order(gone, "500.00", utc(2026, 3, 23, 12))
    for i, customer in enumerate(spenders):
        b.order(customer, f"{10 * (i + 1)}.00", utc(2026, 2, 20 + i))
        if i % 2:
            b.order(customer, "25.00", utc(2026, 3, 22 + i, 11))
    b.activity(bob, "VISIT", utc(2026, 2, 25, 10))
    b.activity(cara, "VISIT", utc(2026, 3, 28, 22, 59))  # 28 March, 23:59 in Warsaw
    b.activity(gone, "VISIT", utc(2026, 3, 26))
    b.tag(anna, "vip", utc(2026, 3, 1))
    b.tag(bob, "vip", utc(2026, 3, 22), removed_at=utc(2026, 3, 26))
    b.tag(bob, "vip", utc(2026, 3, 28), removed_at=None)
    b.tag(anna, "vip", utc(2026, 3, 23), removed_at=utc(2026, 3, 27))  # on twice: counted once
    b.tag(cara, "new", utc(2026, 3, 20))  # before Cara exists: counts from her creation
    b.tag(dan, "new", utc(2026, 3, 30), removed_at=utc(2026, 3, 30))  # never on
    b.tag(gone, "new", utc(2026, 3, 22))
    b.commit()


def daily_rows(session, store, table, *order):
    return session.exec(select(table).where(table.store_id == store.id).order_by(table.day, *order)).all()


def assert_days_equal_live(session, store, first, last):
    """Every precomputed day of `first`..`last` holds what the live per-day functions answer."""
    customers = {row[0].day: row[0] for row in daily_rows(session, store, DailyCustomerCount)}
    thresholds = {row[0].day: row[0] for row in daily_rows(session, store, DailySpenderThresholds)}
    tags: dict = {}
    for row in daily_rows(session, store, DailyTagCount, DailyTagCount.tag_id):
        tags.setdefault(row[0].day, []).append((row[0].tag_id, row[0].customers))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert [day for day in sorted(customers) if first <= day <= last] == days
    for day in days:
        activity = activity_at(session, store, day)
        assert (customers[day].active, customers[day].low_risk, customers[day].high_risk) == (
            activity.active, activity.low_risk, activity.high_risk), day
        live = spender_segments_at(session, store, day)
        row = thresholds[day]
        assert (row.spenders, row.value_low, row.value_high, row.frequent_threshold, row.small, row.medium,
                row.big, row.one_time, row.repeat, row.frequent) == (
            live.spenders, live.value_low or 0, live.value_high or 0, live.frequent_threshold, live.small,
            live.medium, live.big, live.one_time, live.repeat, live.frequent), day
        assert tags.get(day, []) == sorted((t.tag_id, t.customers) for t in tag_counts_at(session, store, day)), day
    return customers, thresholds, tags


def test_a_range_of_days_equals_the_live_figures_of_each_day(session, make_store, monkeypatch):
    store = make_store(timezone="Europe/Warsaw")
    build_history(session, store)
    monkeypatch.setattr(precompute, "CHUNK_DAYS", 4)  # the running state carries over chunks
    first, last = date(2026, 3, 20), date(2026, 4, 3)
    commits = []
    precompute_range(session, store, first, last, after_chunk=lambda: commits.append(1))
    session.commit()
    assert len(commits) == 4
    _, thresholds, tags = assert_days_equal_live(session, store, first, last)
    # The history does move within the range (the comparison is not between empty days).
    assert thresholds[first].spenders < thresholds[last].spenders
    assert len({(r.value_low, r.value_high) for r in thresholds.values()}) > 3
    assert len({tuple(v) for v in tags.values()}) >= 3


def test_a_range_over_the_autumn_clock_change(session, make_store):
    # Warsaw goes back from 03:00 to 02:00 on 25 October 2026: that local day lasts 25 hours.
    store = make_store(timezone="Europe/Warsaw")
    build_history(session, store)
    b = StoreBuilder(session, store)
    eve = b.customer(email="eve@example.com", created_at=utc(2026, 10, 24, 22, 30))  # 25 Oct, 00:30 local
    order = b.order(eve, "70.00", utc(2026, 10, 25, 22, 30))  # 25 Oct, 23:30 local (UTC+1 by then)
    b.refund(order, "20.00", utc(2026, 10, 25, 23, 30))  # 26 Oct, 00:30 local
    b.order(eve, "35.00", utc(2026, 10, 26, 9))
    b.activity(eve, "VISIT", utc(2026, 10, 25, 0, 30))  # 02:30 the first time
    b.activity(eve, "VISIT", utc(2026, 10, 25, 1, 30))  # 02:30 the second time
    b.tag(eve, "vip", utc(2026, 10, 25, 22, 59), removed_at=utc(2026, 10, 26, 23, 0))
    b.commit()
    precompute_range(session, store, date(2026, 10, 23), date(2026, 10, 28))
    session.commit()
    _, thresholds, _ = assert_days_equal_live(session, store, date(2026, 10, 23), date(2026, 10, 28))
    assert thresholds[date(2026, 10, 24)].spenders + 1 == thresholds[date(2026, 10, 25)].spenders


def test_a_range_and_its_days_alone_write_the_same_rows(session, make_store):
    store = make_store(timezone="Europe/Warsaw")
    build_history(session, store)
    days = [date(2026, 3, 21), date(2026, 3, 29), date(2026, 4, 2)]
    tables = (DailyCustomerCount, DailySpenderThresholds, DailyTagCount)

    def snapshot():
        # sorted: rows of one day (a day's tags) come back in no particular order
        return [sorted(tuple(v for k, v in row[0].model_dump().items() if k not in ("computed_at", "id"))
                       for row in daily_rows(session, store, table)) for table in tables]

    for day in days:
        precompute_range(session, store, day, day)
    session.commit()
    alone = [[r for r in rows if r[1] in days] for rows in snapshot()]
    precompute_range(session, store, date(2026, 3, 19), date(2026, 4, 2))
    session.commit()
    ranged = [[r for r in rows if r[1] in days] for rows in snapshot()]
    assert ranged == alone


def test_a_refresh_whose_entries_were_taken_over_leaves_its_days_stale(engine, make_store):
    """Two refreshes of one store at once (a worker presumed dead came back): the one whose claimed
    entries another took over does not clear them, and records its own days as stale."""
    from sqlmodel import Session

    from crm_graph.models import AnalyticsInvalidation
    from crm_graph.services.analytics.daily import stale_from

    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        build(session, store)
        taken = []

        def take_over():
            session.commit()
            if not taken:
                with Session(engine) as other:
                    taken.append(precompute.claim_invalidations(other, store, claimant=2).ids)
                    other.commit()

        summary = precompute.refresh_stored(session, store, date(2026, 3, 1), date(2026, 3, 4), claimant=1,
                                            chunk_days=2, after_chunk=take_over)
        session.commit()
        assert taken[0] and summary.counts["invalidations_cleared"] == 0
        assert stale_from(session, store) <= date(2026, 3, 1)
        left = session.exec(select(AnalyticsInvalidation.id, AnalyticsInvalidation.from_day,
                                   AnalyticsInvalidation.claimed_by)
                            .where(AnalyticsInvalidation.store_id == store.id)).all()
        assert set(taken[0]) <= {row[0] for row in left}
        assert (date(2026, 3, 1), None) in {(row[1], row[2]) for row in left}
