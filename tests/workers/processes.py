"""Real `dramatiq` worker processes on Redis for the reliability tests, started and stopped by the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from crm_graph.settings import Settings
from workers.broker import build_broker
from workers.dispatch import send_job

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcesses:
    """Starts `dramatiq workers.actors ...` processes on one Redis namespace and one database."""

    def __init__(self, db_url: str, redis_url: str, logs: Path, **settings: str) -> None:
        self.db_url = db_url
        self.redis_url = redis_url
        self.namespace = f"crm_graph_test_{uuid.uuid4().hex[:8]}"
        self.logs = logs
        self.settings = {
            "CRM_GRAPH_JOB_LEASE_SECONDS": "6",
            "CRM_GRAPH_REDIS_HEARTBEAT_TIMEOUT_MS": "3000",
            "CRM_GRAPH_REDIS_MAINTENANCE_CHANCE": "1000000",
            "CRM_GRAPH_TEST_DAY_SECONDS": "0.2",
            **settings,
        }
        self.processes: list[subprocess.Popen] = []
        self._broker = None

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_GRAPH_")}
        # Parallel test workers would all bind Dramatiq's metrics port (9191); metrics are tested apart.
        env["CRM_GRAPH_WORKER_METRICS"] = "false"
        env.update(self.settings, CRM_GRAPH_DATABASE_URL=self.db_url, CRM_GRAPH_REDIS_URL=self.redis_url,
                   CRM_GRAPH_REDIS_NAMESPACE=self.namespace, PYTHONPATH=str(ROOT))
        return env

    def start(self, *modules: str, threads: int = 2) -> subprocess.Popen:
        """Start one worker process (in its own process group) and wait until it consumes."""
        before = self._workers()
        log_path = self.logs / f"worker-{len(self.processes)}.log"
        log = open(log_path, "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers.actors", *modules, "--processes", "1",
             "--threads", str(threads), "--worker-shutdown-timeout", "5000"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        process.log_path = log_path
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while not self._workers() - before:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker did not start; see {log_path}")
            time.sleep(0.1)
        return process

    def _workers(self) -> set[bytes]:
        """The ids of the broker instances that have ever fetched from this namespace."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            return set(client.zrange(f"{self.namespace}:__heartbeats__", 0, -1))
        except redis.ConnectionError:
            return set()
        finally:
            client.close()

    def running(self, job_id: int) -> subprocess.Popen | None:
        """The worker whose log says it started job `job_id`."""
        marker = f"job {job_id} (".encode()
        for process in self.processes:
            if marker in process.log_path.read_bytes():
                return process
        return None

    def broker(self):
        """A Redis broker of the same namespace, to send jobs from the test."""
        if self._broker is None:
            self._broker = build_broker(Settings(redis_url=self.redis_url, redis_namespace=self.namespace,
                                                 database_url=self.db_url, _env_file=None))
        return self._broker

    def send(self, job_id: int, kind: str) -> None:
        """Send job `job_id` to these workers."""
        send_job(job_id, kind, broker=self.broker())

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group: the job it runs dies mid-way."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every worker this object started, and remove its Redis keys."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._broker is not None:
            self._broker.client.close()
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(f"{self.namespace}:*"))
            if keys:
                client.delete(*keys)
        except redis.ConnectionError:
            pass
        finally:
            client.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A throw-away redis-server on a free port (no persistence), which the test may restart."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.logs = logs
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.logs / f"redis-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
