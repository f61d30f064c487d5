"""What `/ready` checks: the dependencies a request or a job start needs, each with a short timeout.

`/health` is liveness (the process answers, with its database, as it always has); `/ready` also
asks Redis when jobs go through it (`CRM_GRAPH_REDIS_URL`), so that a load balancer or a Kubernetes
readiness probe can tell an API process that cannot start jobs right now (they would wait QUEUED
for the reaper) from one that can.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

from crm_graph.settings import Settings

log = logging.getLogger("crm_graph.app")

#: Seconds a readiness check waits for Redis to connect and answer.
REDIS_TIMEOUT_SECONDS = 1.0


def check_dependencies(engine: Engine, settings: Settings) -> dict[str, str]:
    """``{"database": "ok" | "unreachable", "redis": ...}`` (no `redis` entry without Redis)."""
    checks = {"database": _check(lambda: _ping_database(engine), "database")}
    if settings.redis_url:
        checks["redis"] = _check(lambda: _ping_redis(settings.redis_url), "redis")
    return checks


def _check(probe, name: str) -> str:
    try:
        probe()
    except Exception as exc:  # noqa: BLE001  (any failure means "not ready")
        log.warning("readiness: %s unreachable: %s: %s", name, type(exc).__name__, exc)
        return "unreachable"
    return "ok"


def _ping_database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_timeout=REDIS_TIMEOUT_SECONDS, retry_on_timeout=False)
    try:
        client.ping()
    finally:
        client.close()
