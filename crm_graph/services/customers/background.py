"""Bulk changes and exports that run as background jobs: a `Job` row per run, handlers by kind.

`create_customer_job` records the job (status QUEUED) in the caller's transaction and, like every
job (`crm_graph.services.jobs.start_job`), sends it to the workers once that transaction commits
(Redis workers in production, worker threads of this process in the embedded mode), whose actor
runs `customer_job_work` under a lease (`workers.runner`). `run_customer_job(engine, job_id)` runs one synchronously, without a broker. Handlers are idempotent:
running a job twice changes nothing more (erased customers stay erased, a consent equal to the
current one is not recorded again, a tag already on stays on, an export is rewritten).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.db import session_scope
from crm_graph.errors import UserError
from crm_graph.models import Job, Store
from crm_graph.models.enums import Channel, ConsentState, JobStatus, OptInLevel
from crm_graph.models.types import utcnow
from crm_graph.services.customers.selection import Selection

log = logging.getLogger("crm_graph.jobs")

ERASE = "customers.erase"
CONSENT = "customers.consent"
TAG = "customers.tag"
UNTAG = "customers.untag"
EXPORT = "customers.export"

Handler = Callable[[Engine, Store, dict[str, Any], Job], dict[str, Any]]


def create_customer_job(session: Session, store: Store, kind: str, params: dict[str, Any]) -> Job:
    """Record a QUEUED job of `kind` for `store`, sent to the workers when the caller's transaction
    commits (a broker that cannot take it leaves it QUEUED for the reaper; see `start_job`)."""
    from crm_graph.services.jobs import start_job

    if kind not in _handlers():
        raise ValueError(f"unknown customer job kind {kind!r}")
    return start_job(session, store, kind, params)


def customer_job_work(engine: Engine, job: Job, progress=None) -> dict[str, Any]:
    """The work of a claimed customer job, for a worker that keeps the job row itself (`workers.actors`).

    Returns the counts and, flattened, the handler's result (an export's `path` and `rows`).
    """
    with session_scope(engine) as session:
        store = session.get(Store, job.store_id)
    if store is None:
        raise UserError(f"Store {job.store_id} no longer exists.")
    outcome = _handlers()[job.kind](engine, store, job.params, job)
    return {"counts": outcome.get("counts", {}), **(outcome.get("result") or {})}


def run_customer_job(engine: Engine, job_id: int) -> None:
    """Run job `job_id` to the end, recording RUNNING, then SUCCEEDED with its counts, or FAILED."""
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.status == JobStatus.SUCCEEDED.value:
            return
        store = session.get(Store, job.store_id)
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING.value, utcnow(), utcnow()
        job.attempts += 1
        session.add(job)
    try:
        result = _handlers()[job.kind](engine, store, job.params, job)
    except Exception as exc:  # noqa: BLE001  (the job records every failure)
        message = str(exc) if isinstance(exc, UserError) else f"Internal error: {type(exc).__name__}"
        if not isinstance(exc, UserError):
            log.exception("job %s (%s) failed", job_id, job.kind)
        _finish(engine, job_id, JobStatus.FAILED, error=message)
        return
    _finish(engine, job_id, JobStatus.SUCCEEDED, counts=result.get("counts", {}), result=result.get("result"))


def job_progress(engine: Engine, job_id: int) -> Callable[[int, int | None], None]:
    """A `progress(done, total)` callback that records progress and a heartbeat on the job."""

    def report(done: int, total: int | None) -> None:
        with session_scope(engine) as session:
            job = session.get(Job, job_id)
            if job is not None:
                job.progress_done, job.progress_total, job.heartbeat_at = done, total, utcnow()
                session.add(job)

    return report


def _finish(engine: Engine, job_id: int, status: JobStatus, *, counts=None, result=None, error=None) -> None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        job.status, job.finished_at, job.heartbeat_at = status.value, utcnow(), utcnow()
        job.counts = counts or job.counts
        job.result = result
        job.error = error
        if status is JobStatus.SUCCEEDED and job.progress_total is not None:
            job.progress_done = job.progress_total
        session.add(job)


def _in_session(engine: Engine, fn: Callable[[Session], int]) -> int:
    with session_scope(engine) as session:
        return fn(session)


def _erase(engine: Engine, store: Store, params: dict, job: Job) -> dict:
    from crm_graph.services.customers.erasure import erase_customers

    selection = Selection.from_json(params["selection"])
    count = _in_session(engine, lambda s: erase_customers(s, store, selection, actor=params.get("actor")))
    return {"counts": {"erased": count}}


def _consent(engine: Engine, store: Store, params: dict, job: Job) -> dict:
    from crm_graph.services.customers.consent import set_consent

    selection = Selection.from_json(params["selection"])
    count = _in_session(engine, lambda s: set_consent(
        s, store, selection, Channel(params["channel"]), ConsentState(params["state"]),
        opt_in_level=OptInLevel(params.get("opt_in_level", "UNKNOWN")), reason=params.get("reason"),
        actor=params.get("actor"),
    ))
    return {"counts": {"changed": count}}


def _tag(engine: Engine, store: Store, params: dict, job: Job) -> dict:
    from crm_graph.services.customers.tagging import tag_customers

    selection = Selection.from_json(params["selection"])
    return {"counts": {"tagged": _in_session(engine, lambda s: tag_customers(s, store, selection, params["tags"]))}}


def _untag(engine: Engine, store: Store, params: dict, job: Job) -> dict:
    from crm_graph.services.customers.tagging import untag_customers

    selection = Selection.from_json(params["selection"])
    return {"counts": {"untagged": _in_session(engine, lambda s: untag_customers(s, store, selection, params["tags"]))}}


def _export(engine: Engine, store: Store, params: dict, job: Job) -> dict:
    from crm_graph.services.export import run_export_job

    return run_export_job(engine, store, params, job.id, progress=job_progress(engine, job.id))


def _handlers() -> dict[str, Handler]:
    return {ERASE: _erase, CONSENT: _consent, TAG: _tag, UNTAG: _untag, EXPORT: _export}
