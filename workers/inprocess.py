"""Embedded mode: the actors run on worker threads inside the API (or CLI) process.

Without `CRM_GRAPH_REDIS_URL` the broker is a `StubBroker`: messages live in this process's memory
and a `dramatiq.Worker` with `CRM_GRAPH_WORKER_THREADS` threads runs them, with the same actors,
retries, time limits and job rows as the Redis workers. What memory loses when the process stops is
recovered from the job rows: at start, QUEUED jobs are sent again, and RUNNING jobs of a dead
process are taken over by the reaper once their lease expires.

One set of worker threads per process, started once (`ensure_in_process_workers`); it works on the
database of the settings it was started with (the last app created, in tests).
"""

from __future__ import annotations

import atexit
import logging
import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker

from crm_graph.settings import Settings

log = logging.getLogger("crm_graph.workers")

_lock = threading.Lock()
_worker: dramatiq.Worker | None = None
_scheduler = None
_booted = False
_recovered: set[str] = set()


def ensure_in_process_workers(settings: Settings, *, scheduler: bool = False) -> dramatiq.Worker | None:
    """Start this process's worker threads (once) on `settings`' database; None when Redis is used.

    With `scheduler`, the periodic work of `crm-graph scheduler` runs here too (embedded mode has no
    other process to run it; job keys keep several API processes from doubling it).
    """
    global _worker, _booted, _scheduler
    if settings.redis_url:
        return None
    from workers.broker import setup_broker, use_database

    broker = setup_broker(settings)
    if not isinstance(broker, StubBroker):
        return None
    use_database(settings)
    import workers.actors  # noqa: F401  (declares the actors on the broker)

    with _lock:
        if not _booted:
            # A StubBroker's TimeLimit (and any process-level middleware) only starts after this.
            broker.emit_after("process_boot")
            _booted = True
            atexit.register(stop_in_process_workers)
        if _worker is None:
            # The poll interval bounds how long `stop_in_process_workers` waits for idle threads.
            _worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads,
                                      worker_timeout=settings.worker_poll_ms)
            _worker.start()
            log.info("running jobs in-process on %d threads", settings.worker_threads)
        if scheduler and _scheduler is None:
            from workers.scheduler import build_scheduler

            _scheduler = build_scheduler(settings, background=True)
            _scheduler.start()
        first_start_on_database = settings.database_url not in _recovered
        _recovered.add(settings.database_url)
    if first_start_on_database:
        _resend_queued(settings)
    return _worker


def _resend_queued(settings: Settings) -> None:
    """Send the QUEUED jobs again: their messages were in the memory of a process that has stopped.

    Done once per database per process; a job sent twice is harmless (only one message claims it).
    """
    from crm_graph.db import get_engine
    from crm_graph.services.job_runs import queued_jobs
    from workers.dispatch import send_job

    try:
        pending = queued_jobs(get_engine(settings.database_url))
    except Exception:  # noqa: BLE001  (an unmigrated database: nothing to recover)
        log.debug("no queued jobs to recover", exc_info=True)
        return
    for job_id, kind in pending:
        send_job(job_id, kind)


def stop_in_process_workers(timeout_ms: int = 10_000) -> None:
    """Stop the worker threads (and the embedded scheduler), letting running jobs finish first."""
    global _worker, _scheduler
    with _lock:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None
        if _worker is not None:
            _worker.stop(timeout=timeout_ms)
            _forget_worker(_worker)
            _worker = None


def _forget_worker(worker: dramatiq.Worker) -> None:
    """Take a stopped worker's middleware off the broker. `dramatiq.Worker.start` adds one to the broker
    and `stop` leaves it there: without this, each restart in a process (a new app in the same process,
    as in tests) stacks another, which dramatiq warns about and calls on every message from then on."""
    broker = worker.broker
    broker.middleware[:] = [m for m in broker.middleware if getattr(m, "worker", None) is not worker]
