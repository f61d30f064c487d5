"""The schedule: which days each store precomputes, sync slots, and no double work from two schedulers."""

from __future__ import annotations

import threading
from datetime import date

from sqlmodel import Session, select

from crm_graph.models import ConnectorConfig, DailyCustomerCount, Job
from crm_graph.settings import Settings
from tests.factories import StoreBuilder, utc
from workers import scheduler
from workers.scheduler import due_day, plan_precomputes, plan_syncs, precompute_span, sync_slot


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_due_day_follows_the_stores_midnight(make_store):
    warsaw = make_store(timezone="Europe/Warsaw")
    la = make_store(timezone="America/Los_Angeles")
    # 2026-03-10 23:40 UTC is 00:40 on the 11th in Warsaw and 16:40 on the 10th in Los Angeles.
    now = utc(2026, 3, 10, 23, 40)
    assert due_day(warsaw, now, delay_minutes=30) == date(2026, 3, 10)
    assert due_day(warsaw, now, delay_minutes=60) == date(2026, 3, 9)  # 00:40 is before 01:00
    assert due_day(la, now, delay_minutes=30) == date(2026, 3, 9)


def test_the_span_catches_up_from_the_last_precomputed_day(engine, make_store):
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        assert precompute_span(session, store, date(2026, 3, 9)) == (date(2026, 3, 9), date(2026, 3, 9))  # no data
        StoreBuilder(session, store).customer(email="a@example.com", created_at=utc(2026, 3, 1, 10))
        session.commit()
        assert precompute_span(session, store, date(2026, 3, 9)) == (date(2026, 3, 1), date(2026, 3, 9))
        session.add(DailyCustomerCount(store_id=store.id, day=date(2026, 3, 5), customers=1, identified=1, spenders=0))
        session.commit()
        assert precompute_span(session, store, date(2026, 3, 9)) == (date(2026, 3, 6), date(2026, 3, 9))
        assert precompute_span(session, store, date(2026, 3, 5)) is None  # nothing missing


def test_a_first_catch_up_goes_back_at_most_730_days(engine, make_store):
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        StoreBuilder(session, store).customer(email="old@example.com", created_at=utc(2015, 1, 1))
        session.commit()
        first, last = precompute_span(session, store, date(2026, 3, 9))
    assert last == date(2026, 3, 9) and (last - first).days + 1 == 730


def _jobs(engine, store, kind):
    with Session(engine) as session:
        return session.exec(select(Job).where(Job.store_id == store.id, Job.kind == kind)).all()


def test_two_schedulers_planning_at_once_create_each_job_once(engine, make_store, monkeypatch):
    sent = []
    monkeypatch.setattr("workers.dispatch.send_job", lambda job_id, kind, broker=None: sent.append(job_id))
    store = make_store(timezone="Europe/Warsaw")
    now = utc(2026, 3, 10, 23, 40)
    barrier = threading.Barrier(2)

    def plan():
        barrier.wait()
        plan_precomputes(engine, _settings(), now=now)

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    plan_precomputes(engine, _settings(), now=now)  # and a third time, later
    jobs = _jobs(engine, store, "PRECOMPUTE")
    assert len(jobs) == 1 and jobs[0].key == "precompute:2026-03-10"
    assert jobs[0].params["first_day"] == jobs[0].params["last_day"] == "2026-03-10"
    assert sent.count(jobs[0].id) == 1


def test_syncs_run_once_per_slot_and_never_pile_up(engine, make_store, monkeypatch):
    sent = []
    monkeypatch.setattr("workers.dispatch.send_job", lambda job_id, kind, broker=None: sent.append(job_id))
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        enabled = ConnectorConfig(store_id=store.id, connector="woocommerce", config={})
        disabled = ConnectorConfig(store_id=store.id, connector="shopify", config={}, enabled=False)
        session.add_all([enabled, disabled])
        session.commit()
    settings = _settings(sync_interval_minutes=60)
    plan_syncs(engine, settings, now=utc(2026, 3, 10, 9, 0, 2))
    plan_syncs(engine, settings, now=utc(2026, 3, 10, 9, 59, 45))  # same slot, give or take skew: nothing new
    jobs = _jobs(engine, store, "SYNC")
    assert [job.params["connector_id"] for job in jobs] == [enabled.id]
    plan_syncs(engine, settings, now=utc(2026, 3, 10, 10, 0, 5))  # next slot, but the first is still queued
    assert len(_jobs(engine, store, "SYNC")) == 1
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().where(Job.id == jobs[0].id).values(status="SUCCEEDED"))
    plan_syncs(engine, settings, now=utc(2026, 3, 10, 10, 0, 5))
    assert len(_jobs(engine, store, "SYNC")) == 2 and len([j for j in sent if j in {x.id for x in _jobs(engine, store, "SYNC")}]) == 2


def test_sync_slots_absorb_small_clock_skew():
    assert sync_slot(utc(2026, 3, 10, 9, 59, 45), 15) == utc(2026, 3, 10, 10, 0)
    assert sync_slot(utc(2026, 3, 10, 10, 0, 10), 15) == utc(2026, 3, 10, 10, 0)
    assert sync_slot(utc(2026, 3, 10, 10, 14, 0), 15) == utc(2026, 3, 10, 10, 0)


def test_the_scheduler_has_its_periodic_jobs():
    built = scheduler.build_scheduler(_settings(database_url="sqlite://"), background=True)
    assert {job.id for job in built.get_jobs()} == {"plan", "reap", "cleanup_exports", "apply_retention"}
