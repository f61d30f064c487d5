"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL and Redis are real servers (127.0.0.1 by default, or CRM_GRAPH_TEST_POSTGRES_URL /
CRM_GRAPH_TEST_REDIS_URL). Where one is unreachable its tests are skipped, except under CI=true,
where that is a failure. Each test session gets its own PostgreSQL database, dropped at the end;
each test gets fresh stores, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from crm_graph.db import create_db_engine
from crm_graph.migrate import upgrade
from crm_graph.models import Store
from tests.factories import StoreFactory

PG_ADMIN_URL = os.environ.get(
    "CRM_GRAPH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _redis_url_of_this_worker(url: str) -> str:
    """`url` for this pytest process: under pytest-xdist, worker gwN uses database number (db - N), so
    parallel workers never flush each other's Redis database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    base, _, db = url.rpartition("/")
    if not worker.startswith("gw") or not db.isdigit():
        return url
    return f"{base}/{max(int(db) - int(worker[2:]), 0)}"


# Each test that starts the app stops its in-process worker threads at the end (see `app_client`),
# which waits for every idle thread's next poll, twice: at the default 100 ms that is 0.2 s a test.
os.environ.setdefault("CRM_GRAPH_WORKER_POLL_MS", "10")

REDIS_URL = _redis_url_of_this_worker(os.environ.get("CRM_GRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]


def unavailable(what: str, exc: BaseException) -> None:
    """Skip (locally) or fail (under CI=true) because a required server is unreachable."""
    message = f"{what} is unreachable: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
    if IN_CI:
        pytest.fail(message + " (CI=true requires it)", pytrace=False)
    pytest.skip(message)


def _admin_engine() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create_postgres_database(prefix: str = "crm_graph_test") -> str:
    """Create an empty PostgreSQL database and return its URL (skips/fails when PG is unreachable)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        unavailable(f"PostgreSQL at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}", exc)
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by `create_postgres_database`, closing its connections."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request, tmp_path_factory) -> Iterator[str]:
    """An empty database of each backend for this test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head (through the real migrations)."""
    engine = create_db_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def backend(engine: Engine) -> str:
    """`sqlite` or `postgresql`."""
    return engine.dialect.name


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for the test; what it commits stays (tests are isolated by store, not rollback)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_store(engine: Engine) -> StoreFactory:
    """Create a fresh store with a unique slug: `make_store(timezone="Europe/Warsaw")`."""
    return StoreFactory(engine)


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    """A fresh, empty UTC store."""
    return make_store()


@pytest.fixture
def api(engine: Engine, db_url: str):
    """A GraphQL client on the app, bound to this session's database."""
    from crm_graph.settings import Settings
    from tests.factories import ApiClient

    with app_client(Settings(database_url=db_url, _env_file=None)) as client:
        yield ApiClient(client, engine)


@contextmanager
def app_client(settings):
    """A test client of the app on `settings`, started (with its in-process workers) and, at the end,
    left only when the jobs its requests started have finished, with the workers stopped and their
    broker emptied: a job of one test (or its retry) must not run in a later test, on that test's
    data (on SQLite it would also make that test's transactions fail with "database is locked")."""
    from starlette.testclient import TestClient

    from crm_graph.app import create_app

    with TestClient(create_app(settings)) as client:
        yield client
        _wait_for_in_process_jobs()  # while the app's worker threads still run
    from workers.inprocess import stop_in_process_workers

    stop_in_process_workers()
    _empty_stub_broker()


def _empty_stub_broker() -> None:
    """Drop the messages left in the in-process broker (retries waiting for their delay)."""
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    broker = dramatiq.get_broker()
    if isinstance(broker, StubBroker):
        broker.flush_all()


def _wait_for_in_process_jobs(timeout: float = 5.0) -> None:
    """Let the jobs a test started on the in-process worker threads finish before the next test.

    The database (a SQLite file, or one PostgreSQL database) is shared by the whole session: a job
    still running would write into the next test's data, and on SQLite a commit from it makes a
    transaction of that test that has already read fail on its first write ("database is locked").
    Messages waiting for a retry's delay (the ``.DQ`` queues) are not work in progress: the broker's
    own `join` would wait for them too.
    """
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    broker = dramatiq.get_broker()
    if not isinstance(broker, StubBroker):
        return
    deadline = time.monotonic() + timeout
    for name, queue in list(broker.queues.items()):
        if name.endswith(".DQ"):
            continue
        while queue.unfinished_tasks and time.monotonic() < deadline:  # a job still running after
            time.sleep(0.01)                                              # that: its own test reports it


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the broker tests use (database 15), flushed before use."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
        client.flushdb()
    except Exception as exc:  # noqa: BLE001
        unavailable(f"Redis at {REDIS_URL}", exc)
    finally:
        client.close()
    return REDIS_URL
