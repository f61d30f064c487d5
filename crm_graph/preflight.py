"""Checks a command makes before it starts work, so that a bad setting or a missing server is one
clear line and exit code 2 (see `crm_graph.cli.main`) instead of a traceback, a hang, or API
processes that uvicorn restarts forever.

- `validate_app`: the API app builds from these settings (everything `create_app` refuses), checked
  in the `serve` process before uvicorn starts any worker process.
- `require_broker`: with Redis configured, the broker can be built and Redis answers a PING within a
  short timeout; every command that sends jobs calls it before it creates one.
- `require_free_port`: the port a command will serve on is free, checked before it writes anything.
- `describe_database`: which database a command uses (the absolute path of a SQLite file).
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import Engine

from crm_graph.errors import ConfigurationError, UserError
from crm_graph.settings import Settings

#: Seconds a command waits for Redis to accept a connection and answer before it gives up.
REDIS_CONNECT_SECONDS = 2.0


def validate_app(settings: Settings) -> None:
    """Build the ASGI app once from `settings` (and drop it): raises the `ConfigurationError` that
    every API process would otherwise raise on its own."""
    from crm_graph.app import create_app

    create_app(settings)


def redis_location(url: str) -> str:
    """`url` without its password (and user name), for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(malformed URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    if parts.username or parts.password:
        netloc = f"***@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def require_broker(settings: Settings) -> None:
    """With `CRM_GRAPH_REDIS_URL` set, make sure a job sent now reaches Redis (no-op without Redis:
    jobs then run in this process)."""
    if not settings.redis_url:
        return
    import redis

    from workers.broker import setup_broker

    where = redis_location(settings.redis_url)
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=REDIS_CONNECT_SECONDS,
                                      socket_timeout=REDIS_CONNECT_SECONDS, retry_on_timeout=False)
    except ValueError as exc:
        raise ConfigurationError(f"CRM_GRAPH_REDIS_URL {where} is not a Redis URL ({exc}); "
                                 "use redis://host:6379/0, or unset it to run jobs in this process.") from None
    setup_broker(settings)  # a broker setting that cannot work (e.g. metrics without their package)
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(
            f"Redis at {where} is not reachable ({reason.rstrip('.')}); start Redis or fix CRM_GRAPH_REDIS_URL "
            "(unset, jobs run in this process)."
        ) from None
    finally:
        client.close()


def require_free_port(host: str, port: int, option: str = "--port") -> None:
    """Raise a `UserError` naming the port and `option` when `host:port` cannot be listened on."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UserError(f"Cannot listen on {host!r}: {exc.strerror}; check CRM_GRAPH_HOST.") from None
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port held only by connections in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"Port {port} on {host} is already in use (another crm-graph?); stop that "
                                f"server or choose a free port with {option} {port + 1}.") from None
            raise UserError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another port with "
                            f"{option} or another address with CRM_GRAPH_HOST.") from None


def describe_database(engine: Engine) -> str:
    """The database of `engine` for people: a SQLite file's absolute path, else the URL without password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return "SQLite in memory"
        return f"SQLite file {Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)
