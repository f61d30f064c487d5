"""Maintenance that keeps jobs honest: the reaper, the clean-up of expired exports, and data retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from crm_graph.models import Job
from crm_graph.models.enums import JobStatus
from crm_graph.models.types import utcnow
from crm_graph.services.job_runs import mark_unsent, reap_stale_jobs
from crm_graph.services.jobs import JobKind
from workers.broker import worker_engine, worker_settings
from workers.dispatch import send_job

log = logging.getLogger("crm_graph.workers")

#: Default of the `job_resend_after_seconds` setting: a QUEUED job whose message was sent this long
#: ago and never ran is sent again.
RESEND_AFTER_SECONDS = 1800


def reap_and_resend() -> list[int]:
    """Queue again the jobs whose worker died and resend lost or unsent messages; return the ids sent.

    When the broker is still unreachable, the jobs not sent are marked unsent again, so that the
    next pass (every minute under the scheduler) tries them again.
    """
    settings = worker_settings()
    engine = worker_engine()
    to_send = reap_stale_jobs(engine, lease_seconds=settings.job_lease_seconds,
                              max_attempts=settings.job_max_retries + 1, resend_after_seconds=settings.job_resend_after_seconds)
    sent: list[int] = []
    for index, (job_id, kind) in enumerate(to_send):
        try:
            send_job(job_id, kind)
        except Exception as exc:  # noqa: BLE001  (the broker is down: try again on the next pass)
            unsent = [pending_id for pending_id, _ in to_send[index:]]
            log.warning("could not send jobs %s again (%s: %s); the next pass tries again", unsent,
                        type(exc).__name__, exc)
            mark_unsent(engine, unsent)
            break
        log.warning("job %s (%s) sent again: its worker died or its message was lost", job_id, kind)
        sent.append(job_id)
    return sent


def cleanup_exports(now=None) -> int:
    """Delete the files of exports finished more than `export_ttl_hours` ago; return how many.

    The job keeps its counts; its result gets ``expired: true`` and loses the path, so that the API
    no longer offers a file that is gone. Running it twice, or on two machines, is harmless.
    """
    settings = worker_settings()
    engine = worker_engine()
    cutoff = (now or utcnow()) - timedelta(hours=settings.export_ttl_hours)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Job.id, Job.result).where(Job.kind == JobKind.CUSTOMERS_EXPORT.value, Job.status == JobStatus.SUCCEEDED.value,
                                             Job.finished_at < cutoff)
        ).all()
    removed = 0
    for job_id, result in rows:
        if not result or result.get("expired") or not result.get("path"):
            continue
        path = Path(result["path"])
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete expired export %s", path, exc_info=True)
            continue
        with engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id).values(
                result={**{k: v for k, v in result.items() if k != "path"}, "expired": True}))
        removed += 1
    return removed


def apply_retention(now=None) -> dict[str, int]:
    """Delete uploads of ended imports (and any older than `import_upload_ttl_hours`), and webhook
    payloads older than `webhook_retention_days`; counts of each. Harmless to run twice or on two
    machines (see `crm_graph.services.retention`)."""
    from crm_graph.services.retention import cleanup_uploads, prune_webhook_payloads

    settings = worker_settings()
    engine = worker_engine()
    uploads = cleanup_uploads(engine, settings.import_dir, settings.import_upload_ttl_hours, now=now)
    payloads = prune_webhook_payloads(engine, settings.webhook_retention_days, settings.webhook_max_age_hours, now=now)
    if uploads or payloads:
        log.info("retention: %d uploads and %d webhook payloads deleted", uploads, payloads)
    return {"uploads": uploads, "webhook_payloads": payloads}
