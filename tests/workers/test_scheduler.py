"""The schedule: which days each store precomputes, sync slots, and no double work from two schedulers."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

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


def test_a_first_sync_still_running_leaves_no_stored_history_without_its_data(engine, db_url, make_store,
                                                                              monkeypatch):
    """The catch-up runs while the store's first sync is still writing; the sync's later (older) data
    makes the caught-up days stale at once, and once the sync has ended the scheduler plans (once) a
    job that recomputes them, after which the stored days equal the live figures again."""
    from crm_graph.connectors.records import CustomerRef, OrderRecord
    from crm_graph.models import AnalyticsInvalidation
    from crm_graph.models.enums import OrderStatus
    from crm_graph.services.analytics.daily import customer_rows
    from crm_graph.services.ingest import ingest_records
    from crm_graph.services.jobs import JobKind, create_job
    from tests.services.analytics.test_precompute import assert_days_equal_live
    from workers.actors import precompute_job
    from workers.broker import use_database

    use_database(_settings(database_url=db_url))  # the jobs run here, in this thread (`precompute_job.fn`)
    sent = []
    monkeypatch.setattr("workers.dispatch.send_job", lambda job_id, kind, broker=None: sent.append(job_id))
    store = make_store(timezone="Europe/Warsaw")
    now = utc(2026, 3, 10, 23, 40)
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        ann = b.customer(email="ann@example.com", created_at=utc(2026, 3, 1, 10))
        b.order(ann, "40.00", utc(2026, 3, 3, 9))
        b.tag(ann, "vip", utc(2026, 3, 4))
        sync = create_job(session, store, JobKind.SYNC, {"connector_id": 1})
        sync.status = "RUNNING"
        session.commit()

    def pending() -> int:
        with Session(engine) as session:
            entries = session.exec(select(AnalyticsInvalidation).where(AnalyticsInvalidation.store_id == store.id))
            return len(entries.all())

    def run(job_ids):
        for job_id in job_ids:
            precompute_job.fn(job_id)
            assert _job(engine, job_id).status == "SUCCEEDED", _job(engine, job_id).error

    catch_up = plan_precomputes(engine, _settings(), now=now)
    catch_up = [job_id for job_id in catch_up if _job(engine, job_id).store_id == store.id]
    assert len(catch_up) == 1 and _job(engine, catch_up[0]).params["first_day"] == "2026-03-01"
    run(catch_up)
    assert pending() == 0
    # The sync's next batch: a guest's order of 2 March, older than every caught-up day.
    with Session(engine, expire_on_commit=False) as session:
        order = OrderRecord(source="shop", external_id="o-1", customer=CustomerRef(email="bob@example.com"),
                            status=OrderStatus.COMPLETED, placed_at=utc(2026, 3, 2, 12), currency="PLN",
                            total=Decimal("99.00"))
        ingest_records(session, session.merge(store), [order], source="shop")
        session.commit()
    assert pending() > 0
    with Session(engine, expire_on_commit=False) as session:
        assert customer_rows(session, store, [date(2026, 3, 5)]) is None  # stale: not used
    assert not [j for j in plan_precomputes(engine, _settings(), now=now) if _job(engine, j).store_id == store.id]
    with Session(engine, expire_on_commit=False) as session:  # the sync ends
        session.get(Job, sync.id).status = "SUCCEEDED"
        session.commit()
    again = [j for j in plan_precomputes(engine, _settings(), now=now) if _job(engine, j).store_id == store.id]
    assert len(again) == 1 and _job(engine, again[0]).key.startswith("precompute:stale:")
    assert not [j for j in plan_precomputes(engine, _settings(), now=now) if _job(engine, j).store_id == store.id]
    run(again)
    assert pending() == 0
    with Session(engine, expire_on_commit=False) as session:
        assert customer_rows(session, store, [date(2026, 3, 5)])[date(2026, 3, 5)].customers == 2
        assert_days_equal_live(session, store, date(2026, 3, 1), date(2026, 3, 10))
    assert not [j for j in plan_precomputes(engine, _settings(), now=now) if _job(engine, j).store_id == store.id]


def _job(engine, job_id) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Job, job_id)
