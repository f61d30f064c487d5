"""Filling the daily tables: every table, every day, idempotent, in chunks, with progress."""

from datetime import date, timedelta

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
