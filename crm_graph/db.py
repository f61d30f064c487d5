"""Database engines and sessions, for SQLite (embedded) and PostgreSQL (production).

One engine per URL per process. SQLite gets the pragmas it needs to behave like a real database
(foreign keys, WAL, a busy timeout); PostgreSQL gets a pool that checks connections before use,
so the service recovers by itself after a database restart.

API requests run their sessions with a statement timeout (`session_scope(statement_timeout=...)`,
see `limit_statements`); workers' jobs do not, since they run long precomputes on purpose.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from crm_graph.errors import ConfigurationError
from crm_graph.settings import get_settings

_engines: dict[str, Engine] = {}

#: Connections of an engine's pool: kept open, and opened beyond those when needed (closed when returned).
POOL_SIZE, POOL_OVERFLOW = 10, 20
#: The most connections one process holds on one database (its API threads are fewer, see `graphql.fairness`).
POOL_CONNECTIONS = POOL_SIZE + POOL_OVERFLOW
#: How many SQLite virtual machine instructions run between two checks of a statement's deadline.
SQLITE_DEADLINE_CHECK_EVERY = 10_000
_lock = threading.Lock()


def normalise_url(url: str) -> str:
    """Return `url` with the driver crm-graph uses, or raise a `ConfigurationError` saying why not.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://`` so that users can paste the
    URL their hosting gives them.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"CRM_GRAPH_DATABASE_URL {url!r} is not a database URL; "
            "use sqlite:///crm_graph.db or postgresql+psycopg://user@host:5432/dbname."
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigurationError(
            f"Database {backend!r} is not supported; use SQLite (sqlite:///file.db) or PostgreSQL."
        )
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """Whether this engine or URL is SQLite (the embedded default)."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def _unicode_lower(value):
    """SQLite's own lower() folds ASCII only; this one folds every letter, as PostgreSQL's does."""
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Case-insensitive search compares lower(column) with a lower-cased prefix (and indexes it).
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Rows SQLite's ANALYZE samples per index: enough for the planner to tell a store's large tables
#: from its small ones, and fast on any size of table (SQLite's `analysis_limit`).
SQLITE_ANALYSIS_LIMIT = 1000


def analyze_tables(connection: Connection | Session, tables: Sequence[str],
                   columns: Mapping[str, str] | None = None) -> None:
    """Refresh the query planner's statistics of `tables` after a bulk load, on either database.

    Without statistics the planners guess, and after a load they guess wrong: SQLite, which keeps
    none until ANALYZE runs, joined a 30-day range of a 2,000-customer store's orders to every order
    line of the store per order (product pairs took 35 s; 9 ms with statistics). On PostgreSQL
    `columns` may narrow a table to the columns that steer the look-ups (``{"customer": "id, email"}``);
    SQLite analyzes whole tables, on a bounded sample.
    """
    if not tables:
        return
    dialect = connection.get_bind().dialect if isinstance(connection, Session) else connection.dialect
    if dialect.name == "postgresql":
        columns = columns or {}
        listed = ", ".join(f"{table} ({columns[table]})" if table in columns else table for table in tables)
        connection.execute(text(f"ANALYZE {listed}"))
        return
    connection.execute(text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
    for table in tables:
        connection.execute(text(f'ANALYZE "{table}"'))


def begin_writing(session: Session) -> None:
    """On SQLite, start the session's transaction holding the database's write lock (a no-op on
    PostgreSQL, and when the transaction has already begun).

    SQLite lets one connection write at a time. A transaction that reads first takes the lock only
    at its first write, and if another connection committed in between (a job's heartbeat, say) that
    write fails at once with "database is locked": its reads are out of date, and waiting would not
    help. A transaction begun here makes the others wait for it instead (up to the busy timeout).
    Call it first thing in a unit of work that reads and then writes.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str) -> Engine:
    """Create a new engine for `url` (see `get_engine` for the shared one)."""
    url = normalise_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise ConfigurationError(f"Folder {str(parent)!r} for the SQLite database does not exist.")
        # An in-memory database lives in one connection (SingletonThreadPool): no pool to size.
        pool = dict(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW) if database and database != ":memory:" else {}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _sqlite_no_deadline)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: the configured database)."""
    url = normalise_url(url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_db_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after a fork, or at the end of tests)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def check_connection(engine: Engine) -> None:
    """Raise a `ConfigurationError` naming the database when it cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigurationError(
            f"Cannot reach the database {where}: {reason}. "
            "Check CRM_GRAPH_DATABASE_URL and that the server is running."
        ) from None


@contextmanager
def session_scope(engine: Engine | None = None, *, statement_timeout: float | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises.

    With `statement_timeout` (seconds), each of its statements is stopped after that long (see
    `limit_statements`); API requests pass one, workers' jobs do not.
    """
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        if statement_timeout:
            limit_statements(session, statement_timeout)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def limit_statements(session: Session, seconds: float) -> None:
    """Stop every statement `session` runs after `seconds`, on this session only.

    PostgreSQL: ``SET LOCAL statement_timeout`` at the start of each of the session's transactions
    (it ends with the transaction, so the pooled connection goes back without it); a statement that
    runs or waits for a lock longer fails with SQLSTATE 57014. SQLite: a progress handler that
    interrupts the statement once its deadline has passed (the error says "interrupted"); it is
    removed when the connection goes back to the pool. SQLite's waits for the write lock are not
    statements that run: its busy timeout (30 s) bounds them.
    `graphql.errors.is_query_timeout` recognises both errors.
    """

    @event.listens_for(session, "after_begin")
    def _limit(_session, _transaction, connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}")
            return
        deadline = [math.inf]

        def started(*_args) -> None:
            deadline[0] = time.monotonic() + seconds

        connection.connection.driver_connection.set_progress_handler(
            lambda: time.monotonic() > deadline[0], SQLITE_DEADLINE_CHECK_EVERY)
        event.listen(connection, "before_cursor_execute", started)


def _sqlite_no_deadline(dbapi_connection, _record) -> None:
    """A connection back in the pool loses the deadline an API session gave it (a job may use it next)."""
    if dbapi_connection is not None:  # None once the connection was invalidated
        dbapi_connection.set_progress_handler(None, 0)
