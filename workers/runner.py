"""Runs one job for an actor: claim it, run the service with progress and heartbeat, record the end.

Every actor of a job is ``run_job(job_id, kind, work)``; this is where at-least-once delivery is made
harmless: a message for a finished job does nothing, a message for a job another live worker holds
comes back later to check (it takes the job over if that worker dies), and a message for a job
whose worker died claims it and runs it again (services are idempotent: upserts and cursors that
advance only after a commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dramatiq.errors import Retry
from dramatiq.middleware import CurrentMessage
from sqlalchemy.engine import Engine

from crm_graph.connectors.egress import EgressPolicy, use_policy
from crm_graph.models import Job
from crm_graph.services.job_runs import (
    RUNNING, JobProgress, LeaseLost, claim_job, finish_job, job_status, release_job,
)
from workers.broker import describe_error, worker_engine, worker_settings

log = logging.getLogger("crm_graph.workers")

#: What an actor's work function gets: the engine, the claimed job and its progress callback.
Work = Callable[[Engine, Job, JobProgress], Any]


def heartbeat_seconds(lease_seconds: int) -> float:
    """How often a running job refreshes its heartbeat: several times per lease."""
    return max(0.5, min(5.0, lease_seconds / 6))


def run_job(job_id: int, kind: str | tuple[str, ...], work: Work) -> None:
    """Run job `job_id` of `kind` (or one of several kinds) with `work(engine, job, progress)`; see the
    module docstring.

    Raises the work's exception after giving the job back (QUEUED, with the error), so that the
    broker's retry policy decides what happens next.
    """
    settings = worker_settings()
    engine = worker_engine()
    claim = claim_job(engine, job_id, lease_seconds=settings.job_lease_seconds,
                      max_attempts=settings.job_max_retries + 1)
    if claim is None:
        status = job_status(engine, job_id)
        if status == RUNNING:
            delay_ms = int(max(1.0, settings.job_lease_seconds / 3) * 1000)
            raise Retry(f"job {job_id} is held by another worker; checking again later", delay=delay_ms)
        log.info("job %s is %s: nothing to do for this message", job_id, status or "gone")
        return
    job = claim.job
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if job.kind not in kinds:
        release_job(engine, job_id, claim.token, f"Job {job_id} is a {job.kind} job, not {kind}.")
        from crm_graph.errors import UserError

        raise UserError(f"Job {job_id} is a {job.kind} job, not {kind}.")
    _count_retries_from_attempts(job.attempts)
    progress = JobProgress(engine, job_id, claim.token, heartbeat_seconds=heartbeat_seconds(settings.job_lease_seconds))
    log.info("job %s (%s, store %s) started, attempt %s", job_id, job.kind, job.store_id, job.attempts)
    try:
        with progress, use_policy(EgressPolicy.from_settings(settings)):  # what a connector of the job may reach
            summary = work(engine, job, progress)
        finish_job(engine, job_id, claim.token, summary, progress=progress, store_id=job.store_id)
    except LeaseLost:
        log.warning("job %s was taken over by another worker; this run stops", job_id)
        return
    except BaseException as exc:
        release_job(engine, job_id, claim.token, describe_error(exc))
        raise
    log.info("job %s (%s) succeeded", job_id, job.kind)


def _count_retries_from_attempts(attempts: int) -> None:
    """Make the broker's retry count the job's failed attempts, not this message's busy checks."""
    message = CurrentMessage.get_current_message()
    if message is not None:
        message.options["retries"] = max(0, attempts - 1)
