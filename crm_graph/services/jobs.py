"""Background jobs as rows: create them, find them, and hand them to the workers.

A job row is the source of truth for a piece of background work; the broker message only carries
the job's id. So a message delivered twice, or re-sent by the reaper, finds the row already
claimed or finished and does nothing (see `crm_graph.services.job_runs` for the worker side).

Starting work from a request: ``start_job(session, store, kind, params)`` creates the row and
arranges for its message to be sent right after the session commits, so a worker never receives
the id of a row it cannot see yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from datetime import date
from typing import Any

from sqlalchemy import event, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from crm_graph.errors import NotFound, UserError
from crm_graph.models import Job, JobError, Store
from crm_graph.models.enums import JobStatus
from crm_graph.models.types import utcnow
from crm_graph.services.customers.errors import FieldError
from crm_graph.services.keyset import KeysetPage, Order, keyset_page, total_count
from crm_graph.services.job_runs import JobProgress, LeaseLost  # noqa: F401  (part of this module's API)

log = logging.getLogger("crm_graph.jobs")

_PENDING_KEY = "crm_graph.jobs_to_enqueue"


class JobKind(StrEnum):
    """The kinds of background work; each is run by one Dramatiq actor."""

    SYNC = "SYNC"
    CSV_IMPORT = "CSV_IMPORT"
    SEGMENT_REFRESH = "SEGMENT_REFRESH"
    PRECOMPUTE = "PRECOMPUTE"
    WEBHOOK = "WEBHOOK"
    CLV_FIT = "CLV_FIT"
    # Bulk changes and exports of customers (crm_graph.services.customers.background).
    CUSTOMERS_EXPORT = "customers.export"
    CUSTOMERS_ERASE = "customers.erase"
    CUSTOMERS_CONSENT = "customers.consent"
    CUSTOMERS_TAG = "customers.tag"
    CUSTOMERS_UNTAG = "customers.untag"


#: The kinds run by the customers' bulk-job handlers.
CUSTOMER_KINDS = (JobKind.CUSTOMERS_EXPORT, JobKind.CUSTOMERS_ERASE, JobKind.CUSTOMERS_CONSENT,
                  JobKind.CUSTOMERS_TAG, JobKind.CUSTOMERS_UNTAG)


#: Statuses after which a job never changes again.
FINISHED = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)


def create_job(
    session: Session, store: Store, kind: str, params: dict[str, Any] | None = None, *, key: str | None = None
) -> Job:
    """Add a QUEUED job for `store` and return it (not yet sent to a worker; see `start_job`).

    With a `key`, the job is unique in its store: when a job with that key exists already (another
    scheduler, or a repeated request, made it), that job is returned instead of a second one.
    """
    return _create(session, store, kind, params, key)[0]


def start_job(
    session: Session, store: Store, kind: str, params: dict[str, Any] | None = None, *, key: str | None = None
) -> Job:
    """Create a job (see `create_job`) and send it to the workers once the session commits.

    A job that already existed under `key` is returned as it is and not sent again.
    """
    job, created = _create(session, store, kind, params, key)
    if created:
        session.info.setdefault(_PENDING_KEY, []).append((job.id, job.kind))
    return job


def start_keyed_job(
    session: Session, store: Store, kind: str, params: dict[str, Any] | None, *, key: str
) -> Job | None:
    """Start a job unique under `key` in its store; None (and nothing sent) when it exists already.

    This is the scheduler's lock: two schedulers planning the same work race on the unique
    (store, key) constraint and exactly one of them creates and sends the job.
    """
    job, created = _create(session, store, kind, params, key)
    if not created:
        return None
    session.info.setdefault(_PENDING_KEY, []).append((job.id, job.kind))
    return job


def _create(session: Session, store: Store, kind: str, params: dict[str, Any] | None, key: str | None) -> tuple[Job, bool]:
    kind = JobKind(kind).value
    if key is not None:
        existing = _job_by_key(session, store.id, key)
        if existing is not None:
            return existing, False
    job = Job(store_id=store.id, kind=kind, params=params or {}, key=key, heartbeat_at=utcnow())
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # Another process inserted the same key between our look-up and our insert.
        existing = _job_by_key(session, store.id, key) if key is not None else None
        if existing is None:
            raise
        return existing, False
    return job, True


def enqueue(job: Job, broker: Any = None) -> None:
    """Send `job`'s message to the workers now (its row must be committed already)."""
    from workers.dispatch import send_job

    send_job(job.id, job.kind, broker=broker)


@event.listens_for(OrmSession, "after_commit")
def _send_committed_jobs(session: OrmSession) -> None:
    """Send the jobs the transaction created. A broker that cannot take a message (Redis down) does
    not fail the request: the job stays QUEUED, is marked unsent, and the reaper sends it again
    (`reap_stale_jobs`); the caller gets the job and can follow it."""
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    from workers.dispatch import send_job

    for index, (job_id, kind) in enumerate(pending):
        try:
            send_job(job_id, kind)
        except Exception as exc:  # noqa: BLE001  (the job stays QUEUED; the reaper sends it again)
            unsent = [pending_id for pending_id, _ in pending[index:]]
            log.warning("could not send jobs %s to the broker (%s: %s); they stay QUEUED and the reaper sends "
                        "them again", unsent, type(exc).__name__, exc)
            _mark_unsent(session, unsent)
            return


def _mark_unsent(session: OrmSession, job_ids: list[int]) -> None:
    from crm_graph.services.job_runs import mark_unsent

    bind = session.get_bind()
    try:
        mark_unsent(getattr(bind, "engine", bind), job_ids)
    except Exception:  # noqa: BLE001  (they are still sent again once `job_resend_after_seconds` have passed)
        log.warning("could not mark jobs %s unsent", job_ids, exc_info=True)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_rolled_back_jobs(session: OrmSession, _previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


def _job_by_key(session: Session, store_id: int, key: str) -> Job | None:
    return session.exec(select(Job).where(Job.store_id == store_id, Job.key == key)).first()


def get_job(session: Session, store: Store, job_id: int) -> Job | None:
    """The store's job `job_id`, or None (a job of another store is as good as absent)."""
    return session.exec(select(Job).where(Job.id == job_id, Job.store_id == store.id)).first()


def require_job(session: Session, store: Store, job_id: int) -> Job:
    """The store's job `job_id`, or `NotFound`."""
    job = get_job(session, store, job_id)
    if job is None:
        raise NotFound(f"No job {job_id} in this store.")
    return job


#: The order of the job list: newest first.
JOB_ORDER = (Order(Job.id, int, descending=True),)


def _jobs_query(store: Store, status: str | None, kind: str | None):
    query = sa_select(Job).where(Job.store_id == store.id)
    if status is not None:
        query = query.where(Job.status == JobStatus(status).value)
    if kind is not None:
        query = query.where(Job.kind == JobKind(kind).value)
    return query


def jobs_page(
    session: Session,
    store: Store,
    *,
    status: str | None = None,
    kind: str | None = None,
    size: int = 20,
    backward: bool = False,
    cursor: str | None = None,
    max_page_size: int = 200,
) -> KeysetPage[Job]:
    """A page of the store's jobs, newest first, of one `status` and/or `kind` when given.

    `cursor` is a cursor of this list: the page is the `size` jobs after it, or before it when
    `backward` (see `crm_graph.services.keyset`).
    """
    if size < 1 or size > max_page_size:
        raise UserError(f"The page size must be between 1 and {max_page_size}.")
    return keyset_page(session, _jobs_query(store, status, kind), "jobs", JOB_ORDER, lambda job: (job.id,),
                       size=size, backward=backward, cursor=cursor)


def jobs_count(session: Session, store: Store, *, status: str | None = None, kind: str | None = None) -> int:
    """How many jobs of the store `jobs_page` pages through with these conditions."""
    return total_count(session, _jobs_query(store, status, kind))


def jobs_by_id(session: Session, store: Store, job_ids: Sequence[int]) -> dict[int, Job]:
    """The store's jobs among `job_ids`, by id (ids of other stores' jobs are left out)."""
    rows = session.exec(sa_select(Job).where(Job.store_id == store.id, Job.id.in_(list(job_ids)))).scalars()
    return {row.id: row for row in rows}


def job_errors(session: Session, store: Store, job_id: int, *, first: int = 100) -> Sequence[JobError]:
    """The first `first` record errors of a job, in the order they were met."""
    query = (
        select(JobError)
        .where(JobError.store_id == store.id, JobError.job_id == job_id)
        .order_by(JobError.id)
        .limit(first)
    )
    return list(session.exec(query))


def job_error_count(session: Session, store: Store, job_id: int) -> int:
    """How many record errors a job kept."""
    query = select(func.count()).select_from(JobError).where(JobError.store_id == store.id, JobError.job_id == job_id)
    return session.exec(query).one()


def active_job(session: Session, store: Store, kind: str, **params: Any) -> Job | None:
    """A QUEUED or RUNNING job of `kind` whose params include `params`, if there is one.

    The scheduler uses it not to pile a second sync of a connector on one still waiting or running.
    """
    query = select(Job).where(
        Job.store_id == store.id,
        Job.kind == JobKind(kind).value,
        Job.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value)),
    )
    for job in session.exec(query.order_by(Job.id.desc())):
        if all(job.params.get(name) == value for name, value in params.items()):
            return job
    return None


#: The longest span one precompute request may cover (ten years of days).
MAX_PRECOMPUTE_DAYS = 3660
#: No store has orders before this day; the look-back windows of a far earlier day leave the calendar.
FIRST_PRECOMPUTE_DAY = date(1970, 1, 1)


def start_precompute(session: Session, store: Store, first_day: date, last_day: date) -> Job:
    """Start a job that precomputes the store's daily aggregates of `first_day`..`last_day`.

    Only finished local days can be precomputed: `last_day` must be before the store's today, and
    `first_day` no earlier than `FIRST_PRECOMPUTE_DAY`.
    """
    today = utcnow().astimezone(store.tz).date()
    if first_day > last_day:
        raise FieldError("lastDay", "`lastDay` must be on or after `firstDay`.")
    if first_day < FIRST_PRECOMPUTE_DAY:
        raise FieldError("firstDay", f"`firstDay` must be on or after {FIRST_PRECOMPUTE_DAY.isoformat()}.")
    if last_day >= today:
        raise FieldError("lastDay", f"`lastDay` must be a finished day, before the store's today ({today.isoformat()}).")
    if (last_day - first_day).days + 1 > MAX_PRECOMPUTE_DAYS:
        raise FieldError("firstDay", f"At most {MAX_PRECOMPUTE_DAYS} days can be precomputed at once; shorten the range.")
    params = {"first_day": first_day.isoformat(), "last_day": last_day.isoformat()}
    return start_job(session, store, JobKind.PRECOMPUTE, params)


def start_clv_fit(session: Session, store: Store) -> Job:
    """Start a job that refits the store's CLV models (BG/NBD and Gamma-Gamma) on its orders to date.

    One fit at a time: while one is queued or running, the request gets that job back.
    """
    return active_job(session, store, JobKind.CLV_FIT) or start_job(session, store, JobKind.CLV_FIT, {})


def start_sync(session: Session, store: Store, connector: str) -> Job:
    """Start a sync of the store's `connector`, or return the one already queued or running.

    One sync of a connector at a time: a second request while one is pending gets the same job,
    which is what a user clicking "sync" twice expects.
    """
    from crm_graph.services.connectors import get_connector_config

    config = get_connector_config(session, store, connector)
    if not config.enabled:
        raise FieldError("connector", f"`connector`: {connector!r} is disabled for this store; enable it to sync.")
    pending = active_job(session, store, JobKind.SYNC, connector_id=config.id)
    if pending is not None:
        return pending
    return start_job(session, store, JobKind.SYNC, {"connector_id": config.id, "connector": connector})
