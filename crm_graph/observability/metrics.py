"""The API's Prometheus series, and the `/metrics` answer.

Series (all prefixed ``crm_graph_``):

- ``graphql_requests_total{operation, outcome}`` and ``graphql_request_seconds{operation}`` (a
  histogram): each GraphQL operation by name; outcome ``ok``, ``partial`` (data and errors) or
  ``error`` (no data). Unnamed operations are ``anonymous``; names that are not plain GraphQL names,
  and any name past the first `MAX_OPERATION_NAMES` of a process, are ``other`` — a client choosing
  names cannot grow the series without bound.
- ``graphql_errors_total{code}``: errors sent to clients, by ``extensions.code`` (bounded as well).
- ``http_requests_total{route, method, status}``: every HTTP answer, by route (not raw path).
- ``result_cache_total{result}``: the dashboard result cache (``hit`` or ``miss``).
- ``db_pool_checked_out`` / ``db_pool_size``: the API process's database connections.
- ``jobs{kind, status}`` (queued and running jobs), ``job_queue_oldest_seconds{kind}`` (age of the
  oldest queued job), ``analytics_stale_entries{store}`` and ``analytics_oldest_stale_day_seconds{store}``
  (pending stale-day entries of the stored figures): read from the database at scrape time, at
  most once per `DATABASE_SERIES_SECONDS`.

Several API processes (`crm-graph serve --workers N`) share one directory of prometheus-client's
multi-process mode (``PROMETHEUS_MULTIPROC_DIR``, which `serve` creates); a scrape of any process
then answers for all of them. The database series are read by the process that answers.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import text
from sqlalchemy.engine import Engine

from crm_graph.observability.multiprocess import multiprocess_dir

#: Distinct operation names (and error codes) one process labels before it says ``other``.
MAX_OPERATION_NAMES = 100
MAX_ERROR_CODES = 50
#: How long the database series are reused between scrapes.
DATABASE_SERIES_SECONDS = 15.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

GRAPHQL_REQUESTS = Counter("crm_graph_graphql_requests", "GraphQL operations by name and outcome.",
                           ["operation", "outcome"])
GRAPHQL_SECONDS = Histogram("crm_graph_graphql_request_seconds", "Time to answer a GraphQL operation.",
                            ["operation"], buckets=_LATENCY_BUCKETS)
GRAPHQL_ERRORS = Counter("crm_graph_graphql_errors", "Errors sent to GraphQL clients, by code.", ["code"])
HTTP_REQUESTS = Counter("crm_graph_http_requests", "HTTP answers by route, method and status.",
                        ["route", "method", "status"])
RESULT_CACHE = Counter("crm_graph_result_cache", "Dashboard result cache lookups.", ["result"])
POOL_CHECKED_OUT = Gauge("crm_graph_db_pool_checked_out", "Database connections in use by API processes.",
                         multiprocess_mode="livesum")
POOL_SIZE = Gauge("crm_graph_db_pool_size", "Database connections kept open by API processes' pools.",
                  multiprocess_mode="livesum")

_names_lock = threading.Lock()
_operation_names: set[str] = set()
_error_codes: set[str] = set()


def _bounded(value: str | None, seen: set[str], limit: int, *, missing: str) -> str:
    if not value:
        return missing
    if not _GRAPHQL_NAME.fullmatch(value):
        return "other"
    with _names_lock:
        if value in seen:
            return value
        if len(seen) >= limit:
            return "other"
        seen.add(value)
        return value


def operation_label(name: str | None) -> str:
    """The label of an operation called `name` (see the module docstring)."""
    return _bounded(name, _operation_names, MAX_OPERATION_NAMES, missing="anonymous")


def record_operation(name: str | None, seconds: float, result) -> None:
    """Count one GraphQL operation, its time and its errors (`result`: an ExecutionResult, or None)."""
    label = operation_label(name)
    errors = list(getattr(result, "errors", None) or [])
    if not errors:
        outcome = "ok"
    else:
        outcome = "partial" if getattr(result, "data", None) is not None else "error"
    GRAPHQL_REQUESTS.labels(label, outcome).inc()
    GRAPHQL_SECONDS.labels(label).observe(seconds)
    for error in errors:
        code = (getattr(error, "extensions", None) or {}).get("code")
        GRAPHQL_ERRORS.labels(_bounded(code, _error_codes, MAX_ERROR_CODES, missing="UNKNOWN")).inc()


def record_cache(hit: bool) -> None:
    """Count one lookup of the dashboard result cache."""
    RESULT_CACHE.labels("hit" if hit else "miss").inc()


def record_pool(engine: Engine) -> None:
    """Publish the pool use of `engine` (cheap: two attribute reads; called per request and per scrape)."""
    pool = engine.pool
    checked_out = getattr(pool, "checkedout", None)
    size = getattr(pool, "size", None)
    if callable(checked_out):
        POOL_CHECKED_OUT.set(checked_out())
    if callable(size):
        POOL_SIZE.set(size())


class DatabaseSeries(Collector):
    """Jobs and stale analytics read from the database when scraped, reused for `seconds`.

    Both queries use existing indexes (`job.status`, `analytics_invalidation.store_id`) and touch
    only the unfinished rows: the job history is not scanned.
    """

    def __init__(self, engine: Engine, seconds: float = DATABASE_SERIES_SECONDS) -> None:
        self.engine = engine
        self.seconds = seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._rows: tuple[list, list] = ([], [])

    def collect(self) -> Iterable[GaugeMetricFamily]:
        jobs, stale = self._read()
        now = time.time()
        by_status = GaugeMetricFamily("crm_graph_jobs", "Unfinished jobs by kind and status.",
                                      labels=["kind", "status"])
        oldest = GaugeMetricFamily("crm_graph_job_queue_oldest_seconds", "Age of the oldest queued job, by kind.",
                                   labels=["kind"])
        for kind, status, count, first_created in jobs:
            by_status.add_metric([kind, status], count)
            if status == "QUEUED" and first_created is not None:
                oldest.add_metric([kind], max(0.0, now - _epoch(first_created)))
        entries = GaugeMetricFamily("crm_graph_analytics_stale_entries",
                                    "Pending stale-day entries of the stored figures, by store.", labels=["store"])
        oldest_day = GaugeMetricFamily("crm_graph_analytics_oldest_stale_day_seconds",
                                       "How far back the earliest stale day of a store lies.", labels=["store"])
        for store, count, first_day in stale:
            entries.add_metric([str(store)], count)
            if first_day is not None:
                oldest_day.add_metric([str(store)], max(0.0, now - _epoch(first_day)))
        yield from (by_status, oldest, entries, oldest_day)

    def _read(self) -> tuple[list, list]:
        with self._lock:
            if time.monotonic() - self._read_at < self.seconds:
                return self._rows
            try:
                with self.engine.connect() as connection:
                    jobs = connection.execute(text(
                        "SELECT kind, status, count(*), min(created_at) FROM job "
                        "WHERE status IN ('QUEUED', 'RUNNING') GROUP BY kind, status")).all()
                    stale = connection.execute(text(
                        "SELECT store_id, count(*), min(from_day) FROM analytics_invalidation "
                        "GROUP BY store_id")).all()
            except Exception:  # noqa: BLE001  (a scrape must answer; the database series are left out)
                jobs, stale = [], []
            self._rows = ([tuple(row) for row in jobs], [tuple(row) for row in stale])
            self._read_at = time.monotonic()
            return self._rows


def _epoch(value) -> float:
    """Seconds since the epoch of a datetime, a date (its UTC midnight) or SQLite's text of either."""
    from datetime import date, datetime, timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()


def scrape_registry(engine: Engine | None, *, pool: bool = True) -> CollectorRegistry:
    """The registry a scrape reads: every API process's series (multi-process mode) or this one's.

    `pool=False` in the `serve` process that only serves the metrics port: its own pool is not the API's.
    """
    if engine is not None and pool:
        record_pool(engine)
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Everything())
    if engine is not None:
        registry.register(_for_engine(engine))
    return registry


class _Everything(Collector):
    """The default registry's series, re-exported (the default registry cannot be combined directly)."""

    def collect(self):
        return REGISTRY.collect()


_database_series: dict[int, DatabaseSeries] = {}


def _for_engine(engine: Engine) -> DatabaseSeries:
    """One `DatabaseSeries` per engine, so its short cache is shared by every scrape."""
    found = _database_series.get(id(engine))
    if found is None or found.engine is not engine:
        found = _database_series[id(engine)] = DatabaseSeries(engine)
    return found


def exposition(engine: Engine | None) -> bytes:
    """The Prometheus text of a scrape."""
    return generate_latest(scrape_registry(engine))


def serve_metrics(host: str, port: int, engine: Engine | None) -> None:
    """Serve `/metrics` on `host`:`port` from a thread of this process (`CRM_GRAPH_METRICS_PORT`)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=scrape_registry(engine, pool=not multiprocess_dir()))

