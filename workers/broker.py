"""The Dramatiq broker of this process, built from the settings, and the database its actors use.

`setup_broker()` must run before an actor module is imported (actors bind to the global broker
when they are declared); `workers.actors` calls it first thing. The first call wins: a process has
one broker and one database for its jobs.

- `CRM_GRAPH_REDIS_URL` set: a `RedisBroker` (production; workers are separate processes).
- unset: a `StubBroker`, whose messages live in this process and are run by the worker threads of
  `workers.inprocess` (embedded mode: `crm-graph serve` and `crm-graph demo` run jobs by themselves).

The middleware list is explicit (Dramatiq's defaults retry 20 times over days, which is wrong for
jobs a user is waiting for): see `build_middleware`.
"""

from __future__ import annotations

import importlib.util
import logging
import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy.engine import Engine

from crm_graph.db import get_engine
from crm_graph.errors import ConfigurationError
from crm_graph.settings import Settings, get_settings
from workers.retry_policy import retry_when

log = logging.getLogger("crm_graph.workers")

#: Backoff between retries: 2 s, 4 s, 8 s ... capped at 5 minutes.
MIN_BACKOFF_MS = 2_000
MAX_BACKOFF_MS = 300_000

_lock = threading.Lock()
_broker: dramatiq.Broker | None = None
_settings: Settings | None = None


class JobOutcome(Middleware):
    """Marks a job FAILED when its message is given up on (retries exhausted, or a bad-data error).

    It must come before `Retries` in the middleware list: `after_*` hooks run in reverse order, so
    it then sees the message after `Retries` has decided whether it will be retried.
    """

    @property
    def actor_options(self) -> set[str]:
        return {"job_kind"}

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is None or not message.failed:
            return
        actor = broker.get_actor(message.actor_name)
        if not actor.options.get("job_kind") or not message.args:
            return
        from crm_graph.services.job_runs import LeaseLost, fail_job

        if isinstance(exception, LeaseLost):
            return
        retries = message.options.get("retries", 0)
        reason = describe_error(exception)
        if retries > 1:
            reason = f"{reason} (gave up after {retries} attempts)"
        fail_job(worker_engine(), int(message.args[0]), reason)


def describe_error(exc: BaseException) -> str:
    """One line for a job's `error`: the message of a `UserError`, else the type and message."""
    from crm_graph.errors import UserError

    if isinstance(exc, UserError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_middleware(settings: Settings, *, metrics: bool = False) -> list[Middleware]:
    """The middleware of crm-graph's broker, in order (see the module docstring)."""
    middleware: list[Middleware] = [
        TimeLimit(time_limit=settings.job_time_limit_minutes * 60_000),
        ShutdownNotifications(notify_shutdown=True),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        JobOutcome(),
        Retries(max_retries=settings.job_max_retries, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS,
                retry_when=retry_when(settings.job_max_retries)),
    ]
    if metrics:
        from dramatiq.middleware.prometheus import Prometheus

        middleware.insert(0, Prometheus())
    return middleware


def _metrics_enabled(settings: Settings) -> bool:
    """`CRM_GRAPH_WORKER_METRICS`; unset means on wherever prometheus-client is installed."""
    if settings.worker_metrics is None:
        return importlib.util.find_spec("prometheus_client") is not None
    if not settings.worker_metrics:
        return False
    # Only look for it: prometheus_client must be imported after the middleware has set up its
    # multi-process directory, or every worker process would count in memory nobody reads.
    if importlib.util.find_spec("prometheus_client") is None:
        raise ConfigurationError(
            "CRM_GRAPH_WORKER_METRICS is on but prometheus-client is not installed: "
            "pip install 'crm-graph[metrics]'."
        )
    return True


def build_broker(settings: Settings) -> dramatiq.Broker:
    """A new broker for `settings` (not installed as the global one; see `setup_broker`)."""
    if settings.redis_url:
        if settings.log_format == "json":  # a worker process: its log lines take the API's JSON shape
            from crm_graph.observability.logging_config import configure

            configure(settings.log_format, settings.log_level)
        return RedisBroker(
            url=settings.redis_url,
            middleware=build_middleware(settings, metrics=_metrics_enabled(settings)),
            namespace=settings.redis_namespace,
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=settings.redis_maintenance_chance,
        )
    return StubBroker(middleware=build_middleware(settings))


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Install this process's broker from `settings` (default: the environment) and return it.

    Idempotent: later calls return the broker of the first one. A later call with settings that ask
    for a different kind of broker is a configuration error, since actors are already bound.
    """
    global _broker, _settings
    with _lock:
        if _broker is None:
            _settings = settings or get_settings()
            _broker = build_broker(_settings)
            dramatiq.set_broker(_broker)
            log.debug("broker: %s", type(_broker).__name__)
        elif settings is not None and bool(settings.redis_url) != bool(_settings.redis_url):
            raise ConfigurationError(
                "This process already runs jobs with a different broker; start one process per setting."
            )
        return _broker


#: What an app's settings decide for the in-process workers that run its jobs.
APP_SETTINGS = ("database_url", "production", "connector_allowed_hosts", "allow_private_connector_urls")


def use_database(settings: Settings) -> None:
    """Make the actors of this process use `settings.database_url` (the in-process worker of an app),
    and its connector address policy."""
    global _settings
    setup_broker(settings)
    with _lock:
        _settings = _settings.model_copy(update={name: getattr(settings, name) for name in APP_SETTINGS})


def worker_settings() -> Settings:
    """The settings the actors of this process run with."""
    setup_broker()
    assert _settings is not None
    return _settings


def worker_engine() -> Engine:
    """The engine of the database the actors of this process work on (traced with CRM_GRAPH_TRACING)."""
    settings = worker_settings()
    engine = get_engine(settings.database_url)
    if settings.tracing:
        from crm_graph.observability import tracing

        tracing.setup_tracing()  # once per process; the connectors' HTTP calls are traced from then on
        tracing.instrument_engine(engine)
    return engine


def is_in_process() -> bool:
    """Whether jobs run inside this process (no Redis configured)."""
    return isinstance(setup_broker(), StubBroker)
