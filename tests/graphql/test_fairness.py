"""Fairness between stores, measured on a real server with real concurrent requests (SECURITY.md,
"Fairness between stores"): a noisy store cannot hold the threads and connections another store's
requests need, waiting requests get a typed retryable error, and every statement of an API request
has a timeout while workers' jobs have none.

Store A's requests are made slow without anything slow in the product: the test holds a lock of its
own on the database (PostgreSQL: the `customer` table; SQLite: the write lock), so they block inside
the database, holding a thread and a connection each, exactly as a heavy analytics query does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm_graph.app import create_app
from crm_graph.graphql.relay import node_row_id
from crm_graph.settings import Settings
from tests.conftest import _empty_stub_broker, _wait_for_in_process_jobs
from tests.factories import ApiClient
from tests.services.lifecycle.simulate import simulate_store
from tests.workers.conftest import wait_for_job
from tests.workers.processes import free_port

#: The bound SECURITY.md states: how long a noisy store may delay another store's simple query.
BOUND_SECONDS = 2.0

SLUG = "{ store { slug } }"
#: A simple query of another store that also needs a database call (a table the lock leaves alone).
SLUG_AND_SEGMENTS = "{ store { slug } segments { nodes { id } } }"
#: Store A's request: a write that waits for the test's lock.
NOISY = 'mutation($email: String!) { customerCreate(input: {email: $email}) { __typename } }'


@contextmanager
def live_server(db_url: str, **settings) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1 (a thread of this process); yields its URL."""
    app = create_app(Settings(database_url=db_url, _env_file=None, auth_cache_seconds=0, **settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _wait_for_in_process_jobs()
        server.should_exit = True
        thread.join(timeout=20)
        from workers.inprocess import stop_in_process_workers

        stop_in_process_workers()
        _empty_stub_broker()


@contextmanager
def database_lock(engine, db_url: str) -> Iterator[None]:
    """Hold a lock that makes the API's writes of customers wait (and on PostgreSQL its reads too)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE customer IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
        return
    connection = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def lock_waiters(engine) -> int | None:
    """How many PostgreSQL statements wait for a lock now (None on SQLite, which cannot tell)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()


def wait_for_waiters(engine, count: int, timeout: float = 10.0) -> None:
    """Until `count` statements wait for the test's lock (PostgreSQL); on SQLite, a second."""
    if engine.dialect.name != "postgresql":
        time.sleep(1.0)
        return
    deadline = time.monotonic() + timeout
    while lock_waiters(engine) < count:
        assert time.monotonic() < deadline, f"only {lock_waiters(engine)} statements wait for the lock"
        time.sleep(0.05)


def post(base: str, query: str, key: str, variables: dict | None = None, timeout: float = 60.0) -> dict:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}},
                          headers={"Authorization": f"Bearer {key}"}, timeout=timeout)
    assert response.status_code == 200, response.text
    return response.json()


def timed(base: str, query: str, key: str) -> tuple[float, dict]:
    started = time.monotonic()
    body = post(base, query, key)
    return time.monotonic() - started, body


def fire(pool: ThreadPoolExecutor, base: str, key: str, n: int) -> list[Future]:
    """`n` concurrent noisy requests of one store."""
    return [pool.submit(post, base, NOISY, key, {"email": f"noisy{i}-{time.monotonic_ns()}@example.com"})
            for i in range(n)]


@pytest.fixture
def keys(engine, make_store):
    """Write keys of two stores, A (noisy) and B (quiet)."""
    api = ApiClient(None, engine)
    return api.key(make_store(), "write"), api.key(make_store(), "write")


def warm(base: str, *keys: str) -> None:
    """One request per key first, so that the key's last use is recorded (a write) before the lock."""
    for key in keys:
        assert post(base, SLUG, key)["data"]["store"]["slug"]


def test_a_noisy_store_does_not_delay_another_stores_simple_query(engine, db_url, keys):
    """Store A keeps 40 requests in flight, all blocked in the database; store B's simple queries
    answer within the stated bound while they are, and A holds only its 4 threads (PostgreSQL counts
    them: exactly 4 of A's statements wait for the lock, the other 36 wait in A's own queue).

    Before the per-store bound, A's 40 requests took every thread of anyio's default limiter (40)
    and every pooled connection (20), so B's key look-up and B's `segments` waited for a thread
    until the lock was released: B's latency grew with A's (the attack measured 53.8 s). The
    control test below shows that it is the per-store bound that protects B.
    """
    key_a, key_b = keys
    with live_server(db_url, store_concurrency=4, store_queue_seconds=60) as base, \
            ThreadPoolExecutor(max_workers=40) as pool:
        warm(base, key_a, key_b)
        with database_lock(engine, db_url):
            noisy = fire(pool, base, key_a, 40)
            wait_for_waiters(engine, 4)
            for query in (SLUG, SLUG_AND_SEGMENTS) * 3:
                seconds, body = timed(base, query, key_b)
                assert not body.get("errors"), body
                assert seconds < BOUND_SECONDS, f"store B waited {seconds:.2f} s for {query}"
            assert lock_waiters(engine) in (None, 4)  # A never held more than its 4 threads
            assert not any(future.done() for future in noisy)  # A's requests were still running
        results = [future.result(timeout=60) for future in noisy]
    assert all(not body.get("errors") for body in results), [b for b in results if b.get("errors")][:1]
    assert {body["data"]["customerCreate"]["__typename"] for body in results} == {"Customer"}


def test_without_the_per_store_bound_the_quiet_store_waits(engine, db_url, keys):
    """The control: with a per-store bound too high to bind (64), A's blocked requests take all 24
    database threads of the process, and B's `segments` waits for one; after the queue time (2 s)
    B gets TOO_MANY_REQUESTS instead of hanging. With the bound (previous test) the same B query
    answers at once. B's key look-up runs on threads of its own, so even here `{ store { slug } }` answers.
    """
    key_a, key_b = keys
    with live_server(db_url, store_concurrency=64, store_queue_seconds=2) as base, \
            ThreadPoolExecutor(max_workers=40) as pool:
        warm(base, key_a, key_b)
        with database_lock(engine, db_url):
            noisy = fire(pool, base, key_a, 30)
            wait_for_waiters(engine, 24)
            seconds, body = timed(base, SLUG_AND_SEGMENTS, key_b)
            assert seconds >= 1.5, f"store B answered in {seconds:.2f} s although every thread was taken"
            assert [error["extensions"]["code"] for error in body["errors"]] == ["TOO_MANY_REQUESTS"]
            assert body["errors"][0]["extensions"]["retryAfter"] == 2
            seconds, body = timed(base, SLUG, key_b)
            assert not body.get("errors") and seconds < BOUND_SECONDS
        [future.result(timeout=60) for future in noisy]


def test_requests_beyond_the_stores_queue_time_get_a_retryable_error(engine, db_url, keys, caplog):
    """With 2 calls per store and 1 s of queue, A's 2 first requests wait for the lock, the 4 others
    are refused after about 1 s with TOO_MANY_REQUESTS and retryAfter; each refusal is one log line."""
    key_a, _ = keys
    caplog.set_level(logging.WARNING, logger="crm_graph")
    with live_server(db_url, store_concurrency=2, store_queue_seconds=1) as base, \
            ThreadPoolExecutor(max_workers=6) as pool:
        warm(base, key_a)
        with database_lock(engine, db_url):
            started = time.monotonic()
            noisy = fire(pool, base, key_a, 6)
            wait_for_waiters(engine, 2)
            deadline = time.monotonic() + 20
            while sum(future.done() for future in noisy) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = [future.result() for future in noisy if future.done()]
            assert len(refused) == 4 and time.monotonic() - started < 10
            for body in refused:
                error = body["errors"][0]
                assert error["extensions"] == {"code": "TOO_MANY_REQUESTS", "retryAfter": 1}, error
                assert "retry in 1 s" in error["message"]
        done = [future.result(timeout=60) for future in noisy]
    assert sum("errors" not in body for body in done) == 2
    busy = [r for r in caplog.records if "TOO_MANY_REQUESTS" in r.getMessage()]
    assert len(busy) == 4 and all(r.exc_info is None for r in busy)


def test_a_statement_over_the_timeout_is_stopped_with_a_typed_error(engine, db_url, make_store, caplog):
    """PostgreSQL: a read blocked by the test's lock on `customer` is cancelled after the statement
    timeout. SQLite (whose readers no lock blocks): an analytics query over 2,000 customers, which
    takes seconds, runs longer than a 20 ms timeout and is interrupted. Either way the client gets
    QUERY_TIMEOUT and the log one line without a traceback; before, it waited as long as the lock
    (PostgreSQL) or ran to the end (SQLite)."""
    store = make_store()
    key = ApiClient(None, engine).key(store, "read")
    caplog.set_level(logging.WARNING, logger="crm_graph")
    if engine.dialect.name == "postgresql":
        query, timeout = "{ store { customerCount } }", 0.5
    else:
        simulate_store(engine, store, n=2000)
        query = '{ purchaseRhythm(range: {from: "2025-01-01", to: "2026-03-31"}) { gaps } }'
        timeout = 0.02
    with live_server(db_url, statement_timeout_seconds=timeout) as base:
        warm(base, key)
        with database_lock(engine, db_url):
            seconds, body = timed(base, query, key)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["QUERY_TIMEOUT"], body
    assert "ran longer than this server allows" in body["errors"][0]["message"]
    assert seconds < 10
    lines = [r for r in caplog.records if "query timeout" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_workers_job_has_no_statement_timeout(engine, db_url, make_store):
    """The same server, with a statement timeout far shorter than the job's statements, runs a
    precompute job to the end: PostgreSQL: the job waits for the test's lock four times longer than
    the timeout; SQLite: the job's statements over 2,000 customers run longer than 5 ms (the API's
    own query over them is stopped, which shows they do). The job runs on the API process's worker
    threads and shares its pool of connections, so a deadline left on a connection would show."""
    store = make_store()
    key = ApiClient(None, engine).key(store, "write")
    simulate_store(engine, store, n=2000 if engine.dialect.name == "sqlite" else 50)
    timeout = 0.5 if engine.dialect.name == "postgresql" else 0.02
    start = 'mutation { precomputeStart(firstDay: "2026-03-01", lastDay: "2026-03-31") { ... on Job { id } } }'
    with live_server(db_url, statement_timeout_seconds=timeout) as base:
        warm(base, key)
        if engine.dialect.name == "postgresql":
            with database_lock(engine, db_url):
                job_id = node_row_id(post(base, start, key)["data"]["precomputeStart"]["id"], "Job")
                wait_for_waiters(engine, 1)
                time.sleep(4 * timeout)
                assert lock_waiters(engine) >= 1  # the job still waits: no timeout stopped it
        else:
            stopped = post(base, '{ purchaseRhythm(range: {from: "2025-01-01", to: "2026-03-31"}) { gaps } }', key)
            assert stopped["errors"][0]["extensions"]["code"] == "QUERY_TIMEOUT"
            job_id = node_row_id(post(base, start, key)["data"]["precomputeStart"]["id"], "Job")
        job = wait_for_job(engine, job_id, timeout=60)
        assert job.status == "SUCCEEDED" and job.attempts == 1, (job.status, job.attempts, job.error)
