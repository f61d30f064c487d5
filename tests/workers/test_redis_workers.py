"""Reliability on the production set-up: real `dramatiq` worker processes, Redis and PostgreSQL.

- a worker killed with SIGKILL in the middle of a job: another worker finishes it, exactly once;
- the same message delivered twice: the second delivery changes nothing;
- Redis restarted while the workers are idle: they reconnect and the next job runs.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from datetime import date

import pytest
from sqlmodel import Session, select

from crm_graph.models import DailyCustomerCount, Job
from crm_graph.services.jobs import create_job
from tests.conftest import IN_CI
from tests.factories import StoreBuilder, utc
from tests.workers.conftest import wait_for_job
from tests.workers.processes import OwnRedis, WorkerProcesses

SLOW = "tests.workers.slow_precompute"


@pytest.fixture
def pg_url(db_url, engine):
    """The PostgreSQL test database: several processes share it, as in production."""
    if engine.dialect.name != "postgresql":
        pytest.skip("worker processes are tested on PostgreSQL, the production database")
    return db_url


@pytest.fixture
def worker_processes(pg_url, redis_url, tmp_path):
    processes = WorkerProcesses(pg_url, redis_url, tmp_path)
    yield processes
    processes.stop_all()


def _store_with_customers(engine, make_store):
    """Customers created on Jan 2, Jan 2, Jan 5 and Jan 9, 2026 (UTC store)."""
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        for day in (2, 2, 5, 9):
            builder.customer(email=f"c{day}-{time.monotonic_ns()}@example.com", created_at=utc(2026, 1, day, 12))
        builder.commit()
    return store


def _precompute_job(engine, store, first: str, last: str) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = create_job(session, store, "PRECOMPUTE", {"first_day": first, "last_day": last})
        session.commit()
        return job


def _daily_counts(engine, store) -> dict[date, int]:
    with Session(engine) as session:
        rows = session.exec(select(DailyCustomerCount).where(DailyCustomerCount.store_id == store.id)).all()
    return {row.day: row.customers for row in rows}


def _expected_counts() -> dict[date, int]:
    # Jan 1: 0; Jan 2-4: 2; Jan 5-8: 3; Jan 9-12: 4 (worked out from the customers above).
    expected = {date(2026, 1, 1): 0}
    expected.update({date(2026, 1, d): 2 for d in (2, 3, 4)})
    expected.update({date(2026, 1, d): 3 for d in (5, 6, 7, 8)})
    expected.update({date(2026, 1, d): 4 for d in (9, 10, 11, 12)})
    return expected


def test_a_job_whose_worker_is_killed_completes_on_another_worker(engine, make_store, worker_processes):
    store = _store_with_customers(engine, make_store)
    job = _precompute_job(engine, store, "2026-01-01", "2026-01-12")
    worker_processes.settings["CRM_GRAPH_TEST_DAY_SECONDS"] = "0.4"
    worker_processes.start(SLOW)
    worker_processes.start(SLOW)
    worker_processes.send(job.id, "PRECOMPUTE")
    deadline = time.monotonic() + 30
    while True:  # wait until it is in the middle of the work
        running = wait_for_job(engine, job.id, statuses=("RUNNING",))
        if running.progress_done >= 4:
            break
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.05)
    worker_processes.kill(worker_processes.running(job.id))
    assert wait_for_job(engine, job.id, statuses=("RUNNING",)).progress_done < 12  # it really was cut short

    done = wait_for_job(engine, job.id, timeout=90)
    assert done.status == "SUCCEEDED", done.error
    assert done.attempts == 2 and (done.progress_done, done.progress_total) == (12, 12)
    assert done.counts == {"days": 12}
    assert _daily_counts(engine, store) == _expected_counts()  # every day once, none missing


def test_a_message_delivered_twice_changes_nothing_the_second_time(engine, make_store, worker_processes):
    store = _store_with_customers(engine, make_store)
    job = _precompute_job(engine, store, "2026-01-01", "2026-01-12")
    worker_processes.settings["CRM_GRAPH_TEST_DAY_SECONDS"] = "0.05"
    worker_processes.start(SLOW, threads=2)
    worker_processes.send(job.id, "PRECOMPUTE")
    worker_processes.send(job.id, "PRECOMPUTE")  # a duplicate while the first runs
    done = wait_for_job(engine, job.id, timeout=60)
    assert done.status == "SUCCEEDED" and done.attempts == 1
    rows_before = _daily_counts(engine, store)

    worker_processes.send(job.id, "PRECOMPUTE")  # and one after it finished
    time.sleep(4)  # longer than a busy duplicate's re-check delay (lease / 3)
    with Session(engine, expire_on_commit=False) as session:
        again = session.get(Job, job.id)
    assert (again.status, again.attempts, again.finished_at, again.counts) == (
        "SUCCEEDED", 1, done.finished_at, done.counts)
    assert _daily_counts(engine, store) == rows_before == _expected_counts()


def test_workers_reconnect_after_redis_restarts(engine, make_store, pg_url, tmp_path):
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server must be on PATH under CI=true")
        pytest.skip("redis-server is not on PATH")
    own = OwnRedis(tmp_path)
    own.start()
    processes = WorkerProcesses(pg_url, own.url, tmp_path, CRM_GRAPH_TEST_DAY_SECONDS="0")
    try:
        store = _store_with_customers(engine, make_store)
        processes.start(SLOW)
        before = _precompute_job(engine, store, "2026-01-01", "2026-01-03")
        processes.send(before.id, "PRECOMPUTE")
        assert wait_for_job(engine, before.id).status == "SUCCEEDED"

        own.stop()
        time.sleep(1.5)  # the idle workers lose their connections
        own.start()
        after = _precompute_job(engine, store, "2026-01-04", "2026-01-12")
        processes.send(after.id, "PRECOMPUTE")
        assert wait_for_job(engine, after.id, timeout=60).status == "SUCCEEDED"
        assert _daily_counts(engine, store) == _expected_counts()
    finally:
        processes.stop_all()
        own.stop()




def test_a_sync_whose_worker_is_killed_completes_on_another_worker(engine, make_store, worker_processes):
    """The production case: a real WooCommerce sync (fake shop), its worker SIGKILLed mid-way."""
    woo = pytest.importorskip("crm_graph_woocommerce.fake_server")
    from sqlalchemy import func

    from crm_graph.models import Customer, Order, SyncCursor
    from crm_graph.services.connectors import register_connector

    shop = woo.FakeWooCommerce()
    shop.orders = woo.SyntheticOrders(2000, customers=50)
    released = threading.Event()
    order_pages = itertools.count(1)

    def hold_the_second_half(path: str, params: dict) -> None:
        """Order pages after the tenth wait for the test: the worker is killed with 1,000 orders committed."""
        if path.rstrip("/").endswith("/orders") and next(order_pages) > 10:
            released.wait(60)

    shop.before_request = hold_the_second_half
    url = shop.start()
    try:
        store = make_store()
        with Session(engine, expire_on_commit=False) as session:
            config = register_connector(session, store, "woocommerce",
                                        {"url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test"})
            job = create_job(session, store, "SYNC", {"connector_id": config.id})
            session.commit()
        worker_processes.start()
        worker_processes.start()
        worker_processes.send(job.id, "SYNC")
        deadline = time.monotonic() + 60

        def committed() -> int:
            with Session(engine) as session:
                return session.exec(select(func.count()).select_from(Order).where(Order.store_id == store.id)).one()

        # Progress counts orders as their pages are read (an order re-read at a page boundary once); the
        # first ten pages commit 991 orders, which the kill must leave behind.
        while wait_for_job(engine, job.id, statuses=("RUNNING",)).progress_done < 900 or committed() < 900:
            assert time.monotonic() < deadline, "the sync made no progress"
            time.sleep(0.05)
        worker_processes.kill(worker_processes.running(job.id))
        assert wait_for_job(engine, job.id, statuses=("RUNNING",)).progress_done < 2000  # cut short
        released.set()

        done = wait_for_job(engine, job.id, timeout=120)
        assert done.status == "SUCCEEDED", done.error
        assert done.attempts == 2
        with Session(engine) as session:
            orders = session.exec(select(func.count()).select_from(Order).where(Order.store_id == store.id)).one()
            distinct = session.exec(select(func.count(func.distinct(Order.external_id)))
                                    .where(Order.store_id == store.id)).one()
            customers = session.exec(select(func.count()).select_from(Customer)
                                     .where(Customer.store_id == store.id)).one()
            cursor = session.exec(select(SyncCursor).where(SyncCursor.store_id == store.id,
                                                           SyncCursor.stream == "orders")).one()
        # 2,000 orders, each once; their buyers are 0..50 (order i goes to i % 51; 0 is a guest).
        assert (orders, distinct, customers) == (2000, 2000, 51)
        # The cursor ends at the run's start (the window is done), never before the last order.
        assert cursor.value is not None and cursor.value >= "2024-01-01T00:33:19"
        assert cursor.value[:10] >= done.started_at.date().isoformat()
    finally:
        released.set()
        shop.stop()
