"""The Dramatiq actors: one per kind of job, each a thin call of a crm_graph service.

Start workers with ``dramatiq workers.actors`` (see docs/OPERATIONS.md). Every job actor takes only
a job id; what to do (the connector, the file, the days) is in the job's row, which is also where
progress, counts and errors go. Maintenance actors (reaper, export clean-up, retention) take nothing.
"""

from __future__ import annotations

from datetime import date

import dramatiq

from workers.broker import setup_broker

setup_broker()  # before any actor is declared: actors bind to the global broker

from crm_graph.errors import UserError  # noqa: E402
from crm_graph.services.jobs import CUSTOMER_KINDS, JobKind  # noqa: E402
from workers.runner import run_job  # noqa: E402

#: Queues, so that operators can give slow kinds of work their own workers (`-Q sync`).
QUEUE_DEFAULT = "default"
QUEUE_SYNC = "sync"
QUEUE_PRECOMPUTE = "precompute"
QUEUE_MAINTENANCE = "maintenance"

#: The actor of each kind of job.
JOB_ACTORS: dict[str, dramatiq.Actor] = {}


def job_actor(*kinds: JobKind, queue_name: str = QUEUE_DEFAULT):
    """Declare the actor of `kinds`: bad-data errors (`UserError`) fail the job without retries."""

    def declare(fn):
        name = kinds[0].value.lower().split(".")[0] if len(kinds) > 1 else kinds[0].value.lower()
        actor = dramatiq.actor(fn, actor_name=f"crm_graph.{name}", queue_name=queue_name,
                               throws=(UserError,), job_kind=",".join(kind.value for kind in kinds))
        for kind in kinds:
            JOB_ACTORS[kind.value] = actor
        return actor

    return declare


@job_actor(JobKind.SYNC, queue_name=QUEUE_SYNC)
def sync_connector_job(job_id: int) -> None:
    """Sync one connector of a store (params: `connector_id`)."""

    def work(engine, job, progress):
        from crm_graph.services.sync import sync_connector

        return sync_connector(engine, job.store_id, int(job.params["connector_id"]), progress=progress)

    run_job(job_id, JobKind.SYNC, work)


@job_actor(JobKind.WEBHOOK, queue_name=QUEUE_SYNC)
def apply_webhook_job(job_id: int) -> None:
    """Apply a webhook delivery that the HTTP endpoint verified and stored (params: connector, headers, body)."""

    def work(engine, job, progress):
        from crm_graph.services.webhook_jobs import apply_webhook_job

        return apply_webhook_job(engine, job.store_id, job.params)

    run_job(job_id, JobKind.WEBHOOK, work)


@job_actor(JobKind.CSV_IMPORT)
def import_csv_job(job_id: int) -> None:
    """Import an uploaded CSV file (params: `path`, `kind`, optional `mapping`)."""

    def work(engine, job, progress):
        from crm_graph.services.csv_import import import_csv
        from crm_graph.services.retention import discard_upload
        from workers.retry_policy import is_transient

        params = job.params
        try:
            summary = import_csv(engine, job.store_id, params["path"], params["kind"], progress=progress,
                                 mapping=params.get("mapping"))
        except BaseException as exc:
            if not is_transient(exc):  # the job fails for good: its upload goes (retries still need it)
                discard_upload(params["path"], job.store_id)
            raise
        # The import ended: the upload has no further use; its rejects report stays downloadable
        # (`Job.download`) until the uploads' age limit.
        discard_upload(params["path"], job.store_id, keep_rejects=True)
        return summary.job_result()

    run_job(job_id, JobKind.CSV_IMPORT, work)


@job_actor(*CUSTOMER_KINDS)
def customers_job(job_id: int) -> None:
    """A bulk change of customers by filter (erase, consent, tag, untag) or a CSV export of them."""

    def work(engine, job, progress):
        from crm_graph.services.customers.background import customer_job_work

        return customer_job_work(engine, job, progress)

    run_job(job_id, CUSTOMER_KINDS, work)


@job_actor(JobKind.SEGMENT_REFRESH)
def refresh_segments_job(job_id: int) -> None:
    """Recount a segment's members, or every segment of the store (params: optional `segment_id`)."""

    def work(engine, job, progress):
        from workers.tasks import refresh_segments_for_job

        return refresh_segments_for_job(engine, job, progress)

    run_job(job_id, JobKind.SEGMENT_REFRESH, work)


@job_actor(JobKind.PRECOMPUTE, queue_name=QUEUE_PRECOMPUTE)
def precompute_job(job_id: int) -> None:
    """Precompute a store's daily aggregates for `first_day`..`last_day` (params, ISO dates)."""

    def work(engine, job, progress):
        from workers.tasks import precompute_for_job

        first_day = date.fromisoformat(job.params["first_day"])
        last_day = date.fromisoformat(job.params["last_day"])
        return precompute_for_job(engine, job.store_id, first_day, last_day, progress)

    run_job(job_id, JobKind.PRECOMPUTE, work)


@job_actor(JobKind.CLV_FIT, queue_name=QUEUE_PRECOMPUTE)
def fit_clv_job(job_id: int) -> None:
    """Refit the store's CLV models and rewrite its per-customer predictions."""

    def work(engine, job, progress):
        from workers.tasks import fit_clv_for_job

        return fit_clv_for_job(engine, job.store_id, progress)

    run_job(job_id, JobKind.CLV_FIT, work)


@dramatiq.actor(actor_name="crm_graph.reap_jobs", queue_name=QUEUE_MAINTENANCE, max_retries=0)
def reap_jobs() -> None:
    """Queue again the jobs whose worker died, and send again those whose message was lost."""
    from workers.maintenance import reap_and_resend

    reap_and_resend()


@dramatiq.actor(actor_name="crm_graph.apply_retention", queue_name=QUEUE_MAINTENANCE, max_retries=0)
def apply_data_retention() -> None:
    """Delete ended imports' uploads and old webhook payloads (see `crm_graph.services.retention`)."""
    from workers.maintenance import apply_retention

    apply_retention()


@dramatiq.actor(actor_name="crm_graph.cleanup_exports", queue_name=QUEUE_MAINTENANCE, max_retries=0)
def cleanup_expired_exports() -> None:
    """Delete export files older than `CRM_GRAPH_EXPORT_TTL_HOURS` and mark their jobs expired."""
    from workers.maintenance import cleanup_exports

    cleanup_exports()
