"""Job overhead on the production set-up: enqueue-to-start latency and throughput of trivial jobs.

Starts real `dramatiq workers.actors` processes on Redis and a scratch PostgreSQL database, sends
SEGMENT_REFRESH jobs of a store without segments (the real actor, with nearly no work), and reads
each job's `started_at` (set when a worker claims it) against the instant it was sent.

    python bench/bench_jobs.py --jobs 300 --worker-timeout-ms 100
    python bench/bench_jobs.py --jobs 300 --worker-timeout-ms 1000   # Dramatiq's default polling

Two patterns: "paced" (one job every `--interval-ms`, the latency a user sees) and "burst" (all at
once: throughput, and how long the last job waits).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from crm_graph.db import create_db_engine  # noqa: E402
from crm_graph.migrate import upgrade  # noqa: E402
from crm_graph.models import Job  # noqa: E402
from crm_graph.services.jobs import create_job  # noqa: E402
from crm_graph.services.stores import create_store  # noqa: E402
from crm_graph.settings import Settings  # noqa: E402
from workers.broker import build_broker  # noqa: E402
from workers.dispatch import send_job  # noqa: E402

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _scratch_database() -> str:
    name = f"crm_workers_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop_database(url: str) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _start_workers(count: int, threads: int, env: dict[str, str]) -> list[subprocess.Popen]:
    processes = []
    for _ in range(count):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", str(threads)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    return processes


def _wait_ready(client: redis.Redis, namespace: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while client.zcard(f"{namespace}:__heartbeats__") < count:
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start")
        time.sleep(0.1)
    time.sleep(2)  # let every consumer settle into its idle polling


def _jobs(engine, store, count: int) -> list[int]:
    with Session(engine, expire_on_commit=False) as session:
        ids = [create_job(session, store, "SEGMENT_REFRESH", {}).id for _ in range(count)]
        session.commit()
    return ids


def _wait_done(engine, ids: list[int], timeout: float = 300) -> dict[int, Job]:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine, expire_on_commit=False) as session:
            rows = {job.id: job for job in session.exec(select(Job).where(Job.id.in_(ids)))}
        if all(row.status in ("SUCCEEDED", "FAILED") for row in rows.values()):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit("jobs did not finish")
        time.sleep(0.2)


def _latencies(rows: dict[int, Job], sent: dict[int, datetime]) -> list[float]:
    return sorted((rows[job_id].started_at - sent[job_id]).total_seconds() * 1000 for job_id in sent)


def _describe(name: str, values: list[float]) -> str:
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (f"{name}: n={len(values)} median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, "
            f"max {values[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-timeout-ms", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    url = _scratch_database()
    namespace = f"crm_graph_bench_{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(args.redis_url)
    processes: list[subprocess.Popen] = []
    try:
        engine = create_db_engine(url)
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            store = create_store(session, "latency")
            session.commit()
        env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_GRAPH_")}
        env.update(CRM_GRAPH_DATABASE_URL=url, CRM_GRAPH_REDIS_URL=args.redis_url, CRM_GRAPH_REDIS_NAMESPACE=namespace,
                   CRM_GRAPH_LOG_LEVEL="WARNING", dramatiq_worker_timeout=str(args.worker_timeout_ms),
                   PYTHONPATH=str(ROOT))
        processes = _start_workers(args.processes, args.threads, env)
        _wait_ready(client, namespace, args.processes)
        broker = build_broker(Settings(_env_file=None, redis_url=args.redis_url, redis_namespace=namespace,
                                       database_url=url))
        from crm_graph.models.types import utcnow

        print(f"{args.processes} worker processes x {args.threads} threads, dramatiq_worker_timeout="
              f"{args.worker_timeout_ms} ms, PostgreSQL 15 + Redis on 127.0.0.1")
        ids = _jobs(engine, store, args.jobs)
        sent: dict[int, datetime] = {}
        for job_id in ids:
            sent[job_id] = utcnow()
            send_job(job_id, "SEGMENT_REFRESH", broker=broker)
            time.sleep(args.interval_ms / 1000)
        print(_describe(f"paced, one job every {args.interval_ms:.0f} ms", _latencies(_wait_done(engine, ids), sent)))

        time.sleep(3)  # idle again
        ids = _jobs(engine, store, 30)
        sent = {}
        for job_id in ids:
            sent[job_id] = utcnow()
            send_job(job_id, "SEGMENT_REFRESH", broker=broker)
            time.sleep(1.0)
        print(_describe("idle workers, one job a second", _latencies(_wait_done(engine, ids), sent)))

        ids = _jobs(engine, store, args.burst)
        sent = {}
        started = time.monotonic()
        for job_id in ids:
            sent[job_id] = utcnow()
            send_job(job_id, "SEGMENT_REFRESH", broker=broker)
        rows = _wait_done(engine, ids)
        elapsed = max((row.finished_at - min(sent.values())).total_seconds() for row in rows.values())
        print(_describe(f"burst of {args.burst}", _latencies(rows, sent))
              + f"; all done in {elapsed:.1f} s = {args.burst / elapsed:.0f} jobs/s"
              + f" (sending took {time.monotonic() - started:.1f} s of wall time including the wait)")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        _drop_database(url)


if __name__ == "__main__":
    main()
