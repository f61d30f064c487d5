"""Fault test: Redis down under load; reads keep working, jobs wait and run when Redis returns.

Starts its own redis-server on a free loopback port (never a shared one), its own small
PostgreSQL database (dropped at the end), the API (2 processes), one Dramatiq worker process and
the scheduler, all pointed at that Redis. Then:

1. with Redis up: read load, and a precompute job that must succeed;
2. Redis stopped: read load (errors counted: the target is 0), and a precompute job started
   (the mutation must answer; the job stays QUEUED);
3. Redis started again on the same port: read load, and the job of step 2 must run, without
   restarting anything; the script reports how long after Redis came back it finished.

    python bench/fault_redis.py --clients 8 --outage 20 --wait 180
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench._harness import QUERIES, ROOT, drop_database, free_port, prepare_database, run_load, uvicorn_server  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def start_redis(port: int, workdir: Path) -> subprocess.Popen:
    """A private redis-server on 127.0.0.1:`port` without persistence."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            return process
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process group started here."""
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def graphql(base: str, key: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    """One GraphQL request; the JSON answer (or a description of the transport failure)."""
    try:
        response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}},
                              headers={"Authorization": f"Bearer {key}"}, timeout=timeout)
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"errors": [{"message": f"{type(exc).__name__}: {exc}"}]}


START = ("mutation($d: Date!) { precomputeStart(firstDay: $d, lastDay: $d) { "
         "... on Job { id status } ... on UserError { code message field } } }")
JOB = "query($id: ID!) { job(id: $id) { id status error } }"


def start_job(base: str, key: str, day: date) -> tuple[str | None, float, dict]:
    """Start a precompute job; (job id or None, seconds the mutation took, the answer)."""
    began = time.monotonic()
    answer = graphql(base, key, START, {"d": day.isoformat()})
    took = time.monotonic() - began
    job = (answer.get("data") or {}).get("precomputeStart") or {}
    return job.get("id"), took, answer


def wait_job(base: str, key: str, job_id: str, seconds: float) -> tuple[str | None, float]:
    """Poll a job until it finishes or `seconds` pass; (last status, seconds waited)."""
    began = time.monotonic()
    status = None
    while time.monotonic() - began < seconds:
        job = (graphql(base, key, JOB, {"id": job_id}).get("data") or {}).get("job") or {}
        status = job.get("status")
        if status in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(1)
    return status, time.monotonic() - began


def main() -> int:
    """Run the three phases; print the summary as JSON; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--outage", type=float, default=20)
    parser.add_argument("--wait", type=float, default=180, help="longest wait for the queued job after Redis returns")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--resend-after", type=int, default=60,
                        help="CRM_GRAPH_JOB_RESEND_AFTER_SECONDS of the scheduler (how long a lost message waits)")
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    if args.before + args.outage + args.wait > 600:
        parser.error("the run must stay under 10 minutes")

    url, keys = prepare_database(args.admin_url, args.customers, roles=("read", "write"))
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="crm-fault-redis-"))
    env = {**os.environ, "CRM_GRAPH_DATABASE_URL": url, "CRM_GRAPH_REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "CRM_GRAPH_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           # a message lost while Redis was down is sent again after this long (default 1800 s)
           "CRM_GRAPH_JOB_RESEND_AFTER_SECONDS": str(args.resend_after)}
    redis = start_redis(port, workdir)
    helpers: list[subprocess.Popen] = []
    summary: dict = {"redis_port": port, "job_resend_after_seconds": args.resend_after}
    day = date.today() - timedelta(days=2)
    try:
        for command, name in ((["-m", "crm_graph", "worker", "--processes", "1", "--threads", "2"], "worker"),
                              (["-m", "crm_graph", "scheduler"], "scheduler")):
            log = open(args.log_dir / f"crm-graph-fault-redis-{name}.log", "wb")  # noqa: SIM115
            helpers.append(subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True))
        with uvicorn_server(url, workers=2, env={"CRM_GRAPH_REDIS_URL": env["CRM_GRAPH_REDIS_URL"]},
                            log_path=args.log_dir / "crm-graph-fault-redis-api.log") as (base, server):
            query = QUERIES["customer-count"]
            # 1. Redis up
            job_id, took, answer = start_job(base, keys["write"], day)
            summary["up_job_start_seconds"] = round(took, 2)
            summary["up_job_status"], waited = wait_job(base, keys["write"], job_id, 120) if job_id else (str(answer), 0)
            summary["up_job_seconds"] = round(waited, 1)
            before = run_load(base, keys["read"], query, clients=args.clients, seconds=args.before, server_pid=server.pid)
            summary["up"] = _brief(before)
            # 2. Redis down
            stop(redis)
            down_at = time.monotonic()
            outage_job, took, answer = start_job(base, keys["write"], day - timedelta(days=1))
            summary["down_job_start_seconds"] = round(took, 2)
            summary["down_job_answer"] = answer.get("errors") or (answer.get("data") or {}).get("precomputeStart")
            during = run_load(base, keys["read"], query, clients=args.clients, seconds=args.outage, server_pid=server.pid)
            summary["down"] = _brief(during)
            if outage_job:
                summary["down_job_status_during_outage"] = (
                    (graphql(base, keys["read"], JOB, {"id": outage_job}).get("data") or {}).get("job") or {}).get("status")
            # 3. Redis back
            redis = start_redis(port, workdir)
            summary["outage_seconds"] = round(time.monotonic() - down_at, 1)
            if outage_job:
                status, waited = wait_job(base, keys["write"], outage_job, args.wait)
                summary["down_job_final_status"] = status
                summary["down_job_finished_seconds_after_redis_back"] = round(waited, 1)
            after = run_load(base, keys["read"], query, clients=args.clients, seconds=args.before, server_pid=server.pid)
            summary["back"] = _brief(after)
    finally:
        for process in helpers:
            stop(process)
        stop(redis)
        drop_database(args.admin_url, url)
    print(json.dumps(summary, indent=2))
    ok = (summary.get("down", {}).get("errors") == 0 and summary.get("up_job_status") == "SUCCEEDED"
          and summary.get("down_job_final_status") == "SUCCEEDED")
    return 0 if ok else 1


def _brief(result) -> dict:
    full = result.summary()
    return {key: full[key] for key in ("requests", "requests_per_second", "p50_ms", "p99_ms", "errors", "error_kinds",
                                       "rss_start_mib", "rss_end_mib")}


if __name__ == "__main__":
    sys.exit(main())
