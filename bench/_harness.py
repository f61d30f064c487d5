"""Shared pieces of the load and fault scripts: a uvicorn server, an API key, concurrent clients.

Everything binds 127.0.0.1. Each run is bounded in time; servers started here are stopped here.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

QUERIES = {
    # A. the consent KPI cards of the dashboard (docs/metrics.md, widget A), the query the load target is set for
    "consent": "{ dashboard(preset: LAST_30_DAYS) { consentKpis { channel bucket value previous change "
               "relativeChange } } }",
    # the smallest query that still reads the database, for a store without the dashboard
    "customer-count": "{ store { customerCount } }",
    # no database work beyond authentication
    "store": "{ store { slug timezone currencyCode } }",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, in MiB (from /proc)."""
    total_kib = 0
    for member in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total_kib / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by `pid` and all its descendants, in seconds (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


@contextmanager
def uvicorn_server(database_url: str, *, workers: int = 2, env: dict[str, str] | None = None,
                   log_path: Path | None = None):
    """Run the API with `workers` processes on a free loopback port; yields (base_url, process)."""
    port = free_port()
    environment = {**os.environ, "CRM_GRAPH_DATABASE_URL": database_url, "CRM_GRAPH_PRODUCTION": "true",
                   "CRM_GRAPH_SECRET_KEY": os.environ.get("CRM_GRAPH_SECRET_KEY") or secrets.token_urlsafe(32),
                   "CRM_GRAPH_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("CRM_GRAPH_DEV_STORE", None)
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "crm_graph.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}; see {log_path}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("uvicorn did not become healthy within 60 s")
        yield base, process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


@dataclass
class Sample:
    """One request: when it finished (seconds since the start), how long it took, whether it failed."""

    at: float
    seconds: float
    error: str | None


@dataclass
class LoadResult:
    """What a load run measured."""

    samples: list[Sample] = field(default_factory=list)
    duration: float = 0.0
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MiB)
    server_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.error]

    def summary(self) -> dict:
        """Requests, requests/s, p50/p99 in ms, error count and kinds, memory at start and end."""
        ok = sorted(s.seconds for s in self.samples if not s.error)
        kinds: dict[str, int] = {}
        for sample in self.errors:
            kinds[sample.error] = kinds.get(sample.error, 0) + 1
        return {
            "requests": len(self.samples),
            "seconds": round(self.duration, 1),
            "requests_per_second": round(len(self.samples) / self.duration, 1) if self.duration else 0,
            "p50_ms": round(_percentile(ok, 50) * 1000, 1) if ok else None,
            "p99_ms": round(_percentile(ok, 99) * 1000, 1) if ok else None,
            "mean_ms": round(statistics.fmean(ok) * 1000, 1) if ok else None,
            "errors": len(self.errors),
            "error_kinds": kinds,
            "rss_start_mib": round(self.rss[0][1], 1) if self.rss else None,
            "rss_end_mib": round(self.rss[-1][1], 1) if self.rss else None,
            "rss_max_mib": round(max(m for _, m in self.rss), 1) if self.rss else None,
            "server_cpu_ms_per_request": round(self.server_cpu_seconds * 1000 / len(self.samples), 2)
            if self.server_cpu_seconds is not None and self.samples else None,
            "client_cpu_ms_per_request": round(self.client_cpu_seconds * 1000 / len(self.samples), 2)
            if self.client_cpu_seconds is not None and self.samples else None,
        }


def _percentile(ordered: list[float], percent: float) -> float:
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class _Connection:
    """One keep-alive HTTP/1.1 connection posting the same prepared request again and again.

    The load clients speak HTTP over asyncio streams directly instead of through an HTTP library:
    the generator shares the 2 cores with the server and the database, and a full client costs
    about a millisecond of CPU per request, a fifth of what the server spends on one.
    """

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self) -> str | None:
        """Send the request, read the whole response; the error kind, or None for a good answer."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            self.close()
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        if status != 200:
            return f"HTTP {status}"
        if b'"errors"' in body:
            errors = json.loads(body).get("errors") or []
            if errors:
                return errors[0].get("extensions", {}).get("code") or "error"
        return None

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(parts)

    def close(self) -> None:
        """Drop the connection; the next `post` opens a new one."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _run(base: str, key: str, query: str, clients: int, seconds: float, result: LoadResult,
               server_pid: int | None, on_tick: Callable[[float], None] | None) -> None:
    url = httpx.URL(base)
    payload = json.dumps({"query": query}).encode()
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    start = time.monotonic()
    stop = start + seconds

    async def one_client() -> None:
        connection = _Connection(url.host, url.port, request)
        while (now := time.monotonic()) < stop:
            try:
                error = await asyncio.wait_for(connection.post(), timeout=10)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError) as exc:
                connection.close()
                error = type(exc).__name__
                await asyncio.sleep(0.05)
            done = time.monotonic()
            result.samples.append(Sample(done - start, done - now, error))
        connection.close()

    async def monitor() -> None:
        while time.monotonic() < stop:
            elapsed = time.monotonic() - start
            if server_pid:
                result.rss.append((elapsed, rss_mib(server_pid)))
            if on_tick:
                on_tick(elapsed)
            await asyncio.sleep(1)
        if server_pid:
            result.rss.append((time.monotonic() - start, rss_mib(server_pid)))

    cpu_before = cpu_seconds(server_pid) if server_pid else None
    client_cpu_before = time.process_time()
    await asyncio.gather(monitor(), *(one_client() for _ in range(clients)))
    if server_pid:
        result.server_cpu_seconds = cpu_seconds(server_pid) - cpu_before
    result.client_cpu_seconds = time.process_time() - client_cpu_before
    result.duration = time.monotonic() - start


def run_load(base: str, key: str, query: str, *, clients: int, seconds: float, server_pid: int | None = None,
             on_tick: Callable[[float], None] | None = None) -> LoadResult:
    """`clients` concurrent clients posting `query` with `key` for `seconds`; memory sampled every second."""
    result = LoadResult()
    asyncio.run(_run(base, key, query, clients, seconds, result, server_pid, on_tick))
    return result


def make_key(database_url: str, store_slug: str, name: str) -> tuple[int, str]:
    """A read key for the store (returns its id, to delete it afterwards, and the key)."""
    from crm_graph.db import create_db_engine, session_scope
    from crm_graph.services.api_keys import create_api_key
    from crm_graph.services.stores import get_store

    engine = create_db_engine(database_url)
    try:
        with session_scope(engine) as session:
            key, plain = create_api_key(session, get_store(session, store_slug), "read", name)
            return key.id, plain
    finally:
        engine.dispose()


def delete_key(database_url: str, key_id: int) -> None:
    """Remove a key made by `make_key`, leaving the store as it was."""
    from crm_graph.db import create_db_engine, session_scope
    from crm_graph.models import ApiKey

    engine = create_db_engine(database_url)
    try:
        with session_scope(engine) as session:
            row = session.get(ApiKey, key_id)
            if row is not None:
                session.delete(row)
    finally:
        engine.dispose()


def prepare_database(admin_url: str, customers: int, roles: tuple[str, ...] = ("read",)) -> tuple[str, dict[str, str]]:
    """A new PostgreSQL database at the newest schema with store `fault`, `customers` customers and a
    key per role: (url, {role: key}). Drop it with `drop_database`."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from crm_graph.db import create_db_engine, session_scope
    from crm_graph.migrate import upgrade
    from crm_graph.services.api_keys import create_api_key
    from crm_graph.services.stores import create_store

    name = f"crm_fault_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        store = create_store(session, "fault", timezone="Europe/Warsaw", currency="PLN")
        keys = {role: create_api_key(session, store, role, f"fault test {role}")[1] for role in roles}
        session.execute(text(
            "INSERT INTO customer (store_id, email, gender, has_account, created_at, updated_at, orders_count, "
            "total_spent) SELECT :store, 'c' || g || '@fault.test', 'UNKNOWN', false, now() - interval '40 days', "
            "now(), 0, 0 FROM generate_series(1, :n) g"), {"store": store.id, "n": customers})
    engine.dispose()
    return url, keys


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by `prepare_database`, closing its connections."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
