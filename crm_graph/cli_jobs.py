"""Commands for background work: `worker`, `scheduler`, `precompute`, `jobs list` and `jobs follow`.

Jobs the CLI starts show a progress bar until they end. Without Redis (embedded mode) the CLI runs
them on its own worker threads; with Redis it sends them to the workers and follows their row.
The database layer and the models are imported by the commands, not here (see `crm_graph.cli`).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta

import typer
from rich.console import Console

from crm_graph.errors import NotFound, UserError
from crm_graph.observability.logging_config import announce
from crm_graph.settings import get_settings

jobs_app = typer.Typer(help="List and follow background jobs.", no_args_is_help=True)
console = Console()

_DONE = ("SUCCEEDED", "FAILED")


def worker(
    processes: int = typer.Option(None, help="Worker processes (default: one per CPU)."),
    threads: int = typer.Option(4, help="Worker threads per process."),
    queues: list[str] = typer.Option(None, "--queue", "-Q",
                                     help="Only these queues: default, sync, precompute, maintenance."),
) -> None:
    """Run Dramatiq worker processes for the configured Redis (same as `dramatiq workers.actors`)."""
    if not get_settings().redis_url:
        raise UserError("CRM_GRAPH_REDIS_URL is not set: without Redis, `crm-graph serve` runs jobs itself.")
    from crm_graph.cli import _migrated_engine
    from crm_graph.preflight import require_broker

    require_broker(get_settings())
    _require_metrics_package(get_settings())
    _migrated_engine()
    command = [sys.executable, "-m", "dramatiq", "workers.actors", "--threads", str(threads)]
    if processes:
        command += ["--processes", str(processes)]
    for queue in queues or []:
        command += ["--queues", queue]
    # Idle consumers poll Redis at most this far apart (Dramatiq's default, 1000 ms, adds up to a
    # second of latency to a job sent to idle workers; see docs/PERFORMANCE.md).
    os.environ.setdefault("dramatiq_worker_timeout", "100")
    announce(console, "crm_graph.workers", f"Starting: dramatiq_worker_timeout={os.environ['dramatiq_worker_timeout']} "
             f"{' '.join(command[2:])}", get_settings().log_format)
    sys.stdout.flush()
    os.execv(sys.executable, command)


def _require_metrics_package(settings) -> None:
    """Workers import prometheus-client when metrics are on: import it here first, so that a missing or
    broken package is one line (see `crm_graph.cli.main`), not a traceback from every worker process.
    This process is replaced by Dramatiq's, so importing it here changes nothing for the workers."""
    if settings.worker_metrics:
        import prometheus_client  # noqa: F401


def scheduler() -> None:
    """Run the scheduler: daily precompute after each store's midnight, periodic syncs, the job reaper."""
    settings = get_settings()
    if not settings.redis_url:
        raise UserError("CRM_GRAPH_REDIS_URL is not set: without Redis, `crm-graph serve` runs the schedule itself.")
    from crm_graph.cli import _migrated_engine
    from crm_graph.preflight import require_broker
    from workers.scheduler import build_scheduler

    require_broker(settings)
    _migrated_engine()
    announce(console, "crm_graph.scheduler", "Scheduler running (Ctrl-C to stop). A second scheduler would not "
             "double the work.", settings.log_format)
    try:
        build_scheduler(settings).start()
    except (KeyboardInterrupt, SystemExit):
        pass


def precompute(
    store: str = typer.Argument(..., help="Store slug."),
    first_day: str = typer.Option(None, "--from", help="First local day, YYYY-MM-DD (default: yesterday)."),
    last_day: str = typer.Option(None, "--to", help="Last local day, YYYY-MM-DD (default: yesterday)."),
    wait: bool = typer.Option(True, help="Show progress until the job ends (with Redis, --no-wait returns at once)."),
) -> None:
    """Precompute a store's daily aggregates for past days, as a background job."""
    from crm_graph.cli import _migrated_engine
    from crm_graph.db import session_scope
    from crm_graph.models.types import utcnow
    from crm_graph.preflight import require_broker
    from crm_graph.services.jobs import start_precompute
    from crm_graph.services.stores import get_store

    settings = get_settings()
    # Before the job row exists: with Redis down it would wait QUEUED (and --wait would never end).
    require_broker(settings)
    engine = _migrated_engine()
    if not settings.redis_url:
        from workers.inprocess import ensure_in_process_workers

        ensure_in_process_workers(settings)
        wait = True
    with session_scope(engine) as session:
        target = get_store(session, store)
        yesterday = utcnow().astimezone(target.tz).date() - timedelta(days=1)
        first = _day(first_day, "--from") or yesterday
        last = _day(last_day, "--to") or max(first, yesterday)
        job = start_precompute(session, target, first, last)
    console.print(f"Job {job.id}: precompute {target.slug} {first}..{last}.")
    if wait:
        raise typer.Exit(follow_job(engine, job.id))


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date like 2026-03-31.") from None


@jobs_app.command("list")
def jobs_list(
    store: str = typer.Argument(..., help="Store slug."),
    status: str = typer.Option(None, help="QUEUED, RUNNING, SUCCEEDED or FAILED."),
    limit: int = typer.Option(20, help="How many, newest first."),
) -> None:
    """List a store's jobs, newest first."""
    from rich.table import Column, Table
    from sqlmodel import Session

    from crm_graph.cli import _migrated_engine
    from crm_graph.services.jobs import jobs_page
    from crm_graph.services.stores import get_store

    engine = _migrated_engine()
    table = Table("id", Column("kind", no_wrap=True), Column("status", no_wrap=True), "progress", "attempts",
                  "created", "finished", Column("error", overflow="fold"))
    with Session(engine) as session:
        try:
            rows = jobs_page(session, get_store(session, store), status=status.upper() if status else None,
                             size=limit, max_page_size=1000).rows
        except ValueError:
            raise UserError(f"--status {status!r} is not one of QUEUED, RUNNING, SUCCEEDED, FAILED.") from None
        for job in rows:
            total = f"/{job.progress_total:,}" if job.progress_total is not None else ""
            table.add_row(str(job.id), job.kind, job.status, f"{job.progress_done:,}{total}", str(job.attempts),
                          f"{job.created_at:%Y-%m-%d %H:%M:%S}",
                          f"{job.finished_at:%Y-%m-%d %H:%M:%S}" if job.finished_at else "", (job.error or "")[:200])
    console.print(table)


@jobs_app.command("follow")
def jobs_follow(job_id: str = typer.Argument(..., help="Job id: the number `jobs list` shows, or the `id` a "
                                                     "mutation returned.")) -> None:
    """Show a job's progress bar until it ends; exit code 0 when it succeeded, 1 when it failed."""
    from crm_graph.cli import _migrated_engine
    from crm_graph.graphql.ids import parse_id
    from crm_graph.graphql.relay import node_row_id

    row_id = parse_id(job_id) or node_row_id(job_id, "Job")
    if row_id is None:
        raise NotFound(f"No job {job_id!r}; `crm-graph jobs list STORE` shows the jobs there are.")
    raise typer.Exit(follow_job(_migrated_engine(), row_id))


def follow_job(engine, job_id: int, *, poll_seconds: float = 0.3) -> int:
    """Draw job `job_id`'s progress until it ends, then its counts and first errors; return an exit code."""
    from sqlmodel import Session, select

    from crm_graph.cli_progress import progress_bar
    from crm_graph.models import Job, JobError
    from crm_graph.services.job_runs import live_progress

    def load() -> Job:
        with Session(engine, expire_on_commit=False) as session:
            job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"No job {job_id}; `crm-graph jobs list STORE` shows the jobs there are.")
        return job

    job = load()
    with progress_bar(console) as progress:
        task = progress.add_task(f"job {job.id} {job.kind}", total=None)
        while True:
            done, total = job.progress_done, job.progress_total
            # A job this process runs (embedded mode) reports here at once; its row lags (see live_progress).
            live = live_progress(job.id) if job.status == "RUNNING" else None
            if live is not None and live[0] >= done:
                done, total = live
            progress.update(task, completed=done, total=total, description=f"job {job.id} {job.kind} {job.status.lower()}")
            if job.status in _DONE:
                break
            time.sleep(poll_seconds)
            job = load()
    counts = ", ".join(f"{name} {value:,}" if isinstance(value, int) else f"{name} {value}"
                       for name, value in sorted((job.counts or {}).items()))
    if job.status == "SUCCEEDED":
        console.print(f"[green]Job {job.id} succeeded[/green]" + (f": {counts}." if counts else "."))
    else:
        console.print(f"[red]Job {job.id} failed:[/red] {job.error}")
    with Session(engine) as session:
        errors = session.exec(select(JobError).where(JobError.job_id == job.id).order_by(JobError.id).limit(10)).all()
    for error in errors:
        where = f"line {error.line}: " if error.line is not None else (f"{error.record}: " if error.record else "")
        console.print(f"  {where}{error.reason}", highlight=False)
    return 0 if job.status == "SUCCEEDED" else 1


def register(app: typer.Typer) -> None:
    """Add these commands to the `crm-graph` application."""
    app.command()(worker)
    app.command()(scheduler)
    app.command()(precompute)
    app.add_typer(jobs_app, name="jobs")
