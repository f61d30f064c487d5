"""Redis down: jobs started meanwhile are answered QUEUED and run once it is back; `/ready` says so.

The production set-up for real: an API process (uvicorn), a `redis-server` of the test's own that is
down when the jobs are started, the reaper, and a `dramatiq` worker process, on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from crm_graph.models import Job
from crm_graph.models.types import utcnow
from crm_graph.services.api_keys import create_api_key
from crm_graph.settings import Settings
from tests.factories import StoreBuilder, utc
from tests.workers.conftest import job_row_id, wait_for_job
from tests.workers.processes import ROOT, OwnRedis, WorkerProcesses, free_port

STARTS = {
    "customersExport": "mutation { customersExport { ... on Job { id status } } }",
    "customersTag": 'mutation { customersTag(tags: ["vip"], all: true) { ... on BulkChange { job { id status } } } }',
    "precomputeStart": "mutation($d: Date!) { precomputeStart(firstDay: $d, lastDay: $d) { ... on Job { id status } } }",
    "clvFitStart": "mutation { clvFitStart { ... on Job { id status } } }",
}


@pytest.fixture
def pg_url(db_url, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("worker processes are tested on PostgreSQL, the production database")
    return db_url


class Api:
    """`uvicorn` serving the app on a free port with the environment of `env`."""

    def __init__(self, env: dict[str, str], log_path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "crm_graph.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the API did not start; see {log_path}")
            time.sleep(0.1)

    def graphql(self, query: str, key: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.base}/graphql", json={"query": query, "variables": variables or {}},
                              headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log.close()


def _job_of(name: str, body: dict) -> dict:
    assert not body.get("errors"), body
    data = body["data"][name]
    return data["job"] if name == "customersTag" else data


def _reap(workers: WorkerProcesses) -> list[int]:
    """One pass of the reaper, in a process of its own (as the scheduler runs it); the ids it sent."""
    reaper = subprocess.run(
        [sys.executable, "-c", "import json; from workers.maintenance import reap_and_resend; "
                               "print(json.dumps(reap_and_resend()))"],
        cwd=ROOT, env=workers.env(), capture_output=True, text=True, timeout=60)
    assert reaper.returncode == 0, reaper.stderr
    return json.loads(reaper.stdout.strip().splitlines()[-1])


def _unsent(engine, job_ids) -> set[int]:
    """The jobs among `job_ids` that are QUEUED and marked unsent."""
    with Session(engine) as session:
        rows = session.exec(select(Job).where(Job.id.in_(list(job_ids)))).all()
    return {job.id for job in rows if job.status == "QUEUED" and job.heartbeat_at is None}


def test_jobs_started_while_redis_is_down_are_queued_and_run_once_it_is_back(pg_url, engine, make_store, tmp_path):
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        for n in range(3):
            builder.customer(email=f"r{n}-{time.monotonic_ns()}@example.com", created_at=utc(2026, 1, 2, 12))
        builder.commit()
        _, key = create_api_key(session, store, "write")
        session.commit()
    redis_server = OwnRedis(tmp_path)  # its port is free: Redis is down
    workers = WorkerProcesses(pg_url, redis_server.url, tmp_path)
    env = {**workers.env(), "CRM_GRAPH_EXPORT_DIR": str(tmp_path / "exports"), "CRM_GRAPH_SECRET_KEY": "k" * 40}
    workers.settings["CRM_GRAPH_EXPORT_DIR"] = env["CRM_GRAPH_EXPORT_DIR"]
    api = Api(env, tmp_path / "api.log")
    try:
        day = (utcnow() - timedelta(days=2)).date().isoformat()
        jobs = {}
        for name, query in STARTS.items():
            job = _job_of(name, api.graphql(query, key, {"d": day} if "$d" in query else None))
            assert job["status"] == "QUEUED", (name, job)
            jobs[name] = job_row_id(job["id"])
        ready = httpx.get(f"{api.base}/ready", timeout=10)
        assert ready.status_code == 503 and ready.json()["failed"] == ["redis"], ready.text
        assert httpx.get(f"{api.base}/health", timeout=10).status_code == 200  # alive all the same

        assert _reap(workers) == []  # a pass while Redis is still down sends nothing and loses nothing
        assert _unsent(engine, jobs.values()) == set(jobs.values())

        redis_server.start()  # Redis is back, on the same address
        assert httpx.get(f"{api.base}/ready", timeout=10).json() == {"status": "ok", "database": "ok", "redis": "ok"}
        assert set(jobs.values()) <= set(_reap(workers))
        assert _unsent(engine, jobs.values()) == set()
        workers.start()
        for name, job_id in jobs.items():
            done = wait_for_job(engine, job_id, timeout=90)
            assert done.status == "SUCCEEDED", (name, done.error)
            assert done.attempts == 1, name
    finally:
        api.stop()
        workers.stop_all()
        redis_server.stop()


def test_ready_names_redis_when_it_is_down(engine, db_url, redis_url):
    from starlette.testclient import TestClient

    from crm_graph.app import create_app

    closed = free_port()
    down = create_app(Settings(database_url=db_url, redis_url=f"redis://127.0.0.1:{closed}/0", _env_file=None))
    with TestClient(down) as client:
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "database": "ok", "redis": "unreachable", "failed": ["redis"]}
        assert client.get("/health").status_code == 200
    up = create_app(Settings(database_url=db_url, redis_url=redis_url, _env_file=None))
    with TestClient(up) as client:
        answer = client.get("/ready")
        assert answer.status_code == 200 and answer.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_ready_without_redis_checks_the_database(engine, db_url):
    from tests.conftest import app_client

    with app_client(Settings(database_url=db_url, _env_file=None)) as client:
        assert client.get("/ready").json() == {"status": "ok", "database": "ok"}
    with app_client(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none", _env_file=None)) as client:
        answer = client.get("/ready")
        assert answer.status_code == 503 and answer.json()["failed"] == ["database"]
