"""The worker's side of a job: claim it, report progress with a heartbeat, finish or give it back.

A worker holds a job through a lease: `claim_job` sets the job RUNNING with a fresh random
`claim_token` and `heartbeat_at`; `JobProgress` keeps `heartbeat_at` fresh from a background
thread. Every later write checks the token, so a worker that was presumed dead (its heartbeat went
stale and another worker claimed the job) cannot overwrite the new owner's work: it gets
`LeaseLost` and stops. A job whose heartbeat is older than the lease can be claimed again, which is
how a job survives its worker being killed: the re-delivered message (or the reaper's) claims it.

These functions take an Engine and commit by themselves: a job's status must be visible to other
processes at once, whatever the job's own transactions do.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from sqlalchemy import and_, insert, literal, or_, select, update
from sqlalchemy.engine import Engine

from crm_graph.models import Job, JobError
from crm_graph.models.enums import JobStatus
from crm_graph.models.types import UTCDateTime, utcnow

log = logging.getLogger("crm_graph.jobs")

#: At most this many record errors are kept per job; the count of all of them is in `counts`.
MAX_KEPT_ERRORS = 1000

QUEUED, RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value
SUCCEEDED, FAILED = JobStatus.SUCCEEDED.value, JobStatus.FAILED.value


class LeaseLost(Exception):
    """This worker no longer holds the job: it was presumed dead and the job was given to another."""


@dataclasses.dataclass(frozen=True)
class Claim:
    """A job this worker now runs: a snapshot of its row and the lease token."""

    job: Job
    token: str


def claim_job(engine: Engine, job_id: int, *, lease_seconds: int, max_attempts: int) -> Claim | None:
    """Take job `job_id` for this worker, or return None when it is not to be run here.

    A job is claimed when it is QUEUED, or RUNNING with a heartbeat older than `lease_seconds`
    (its worker died). It is not claimed when it has finished (a duplicate message), when another
    worker holds a live lease, or when it does not exist. A dead worker's job that has already been
    attempted `max_attempts` times is marked FAILED instead: a job that kills its worker every
    time must not loop forever.
    """
    now = utcnow()
    token = uuid.uuid4().hex
    stale = now - timedelta(seconds=lease_seconds)
    claimable = or_(Job.status == QUEUED, and_(Job.status == RUNNING, Job.heartbeat_at < stale))
    with engine.begin() as connection:
        row = connection.execute(
            update(Job)
            .where(Job.id == job_id, claimable, Job.attempts < max_attempts)
            .values(status=RUNNING, claim_token=token, heartbeat_at=now, attempts=Job.attempts + 1,
                    started_at=_coalesce_now(Job.started_at, now))
            .returning(*Job.__table__.columns)
        ).mappings().first()
        if row is None:
            connection.execute(
                update(Job)
                .where(Job.id == job_id, claimable, Job.attempts >= max_attempts)
                .values(status=FAILED, claim_token=None, finished_at=now,
                        error=f"Gave up after {max_attempts} attempts: the worker running it stopped each time.")
            )
            return None
    return Claim(job=Job.model_validate(dict(row)), token=token)


def _coalesce_now(column, now: datetime):
    from sqlalchemy import func

    return func.coalesce(column, literal(now, UTCDateTime()))


def job_status(engine: Engine, job_id: int) -> str | None:
    """The current status of job `job_id` (None when it does not exist)."""
    with engine.connect() as connection:
        return connection.execute(select(Job.status).where(Job.id == job_id)).scalar_one_or_none()


#: The jobs running in this process, by id: what `live_progress` reads.
_RUNNING_HERE: dict[int, JobProgress] = {}
_RUNNING_HERE_LOCK = threading.Lock()


def live_progress(job_id: int) -> tuple[int, int | None] | None:
    """(done, total) last reported by job `job_id` if it is running in this process, else None.

    The job's row lags behind: it is written at most every `min_interval`, and on SQLite only by the
    heartbeat, which waits while the job's own transaction holds the write lock (a whole chunk of
    days of a precompute). A command that runs the job on its own threads (embedded mode) shows
    these figures instead, so its bar moves as the job reports.
    """
    with _RUNNING_HERE_LOCK:
        progress = _RUNNING_HERE.get(job_id)
    return None if progress is None else (progress.done, progress.total)


class JobProgress:
    """The `progress(done, total)` callback of a running job, with its heartbeat.

    Calls are cheap: the row is written at most every `min_interval` seconds (`finish_job` writes the
    last values). A background thread, started by `start()` or the `with` block, refreshes
    `heartbeat_at` every `heartbeat_seconds` even while the job is in one long query. When the lease
    is lost, the next call raises `LeaseLost` so the job stops where it is.

    On SQLite a call writes nothing and the heartbeat writes the progress too: the job's own
    transaction may hold the database's write lock while it reports (`db.begin_writing`), and a write
    from the same thread on another connection would wait for itself.
    """

    def __init__(self, engine: Engine, job_id: int, token: str, *, heartbeat_seconds: float = 5.0,
                 min_interval: float = 0.5) -> None:
        self.engine = engine
        self.job_id = job_id
        self.token = token
        self.heartbeat_seconds = heartbeat_seconds
        self.min_interval = min_interval
        self.done = 0
        self.total: int | None = None
        self.lost = False
        self._heartbeat_writes_progress = engine.dialect.name == "sqlite"
        self._written_at = time.monotonic()  # the claim has just written the heartbeat
        self._written_done = 0
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if self.lost:
            raise LeaseLost(f"job {self.job_id} was given to another worker")
        self.done, self.total = done, total
        if self._heartbeat_writes_progress:
            return
        if time.monotonic() - self._written_at >= self.min_interval:
            self._write(progress_done=done, progress_total=total)
            if self.lost:
                raise LeaseLost(f"job {self.job_id} was given to another worker")

    def _write(self, **values: Any) -> None:
        with self._write_lock:
            if not values and self.done != self._written_done:
                # A heartbeat also writes progress the interval held back: a job stalled on a slow page
                # still shows how far it got.
                values = {"progress_done": self.done, "progress_total": self.total}
            self._written_at = time.monotonic()
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # A lost heartbeat after a database crash is harmless; not waiting for the disk is cheaper.
                    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                changed = connection.execute(
                    update(Job).where(Job.id == self.job_id, Job.claim_token == self.token)
                    .values(heartbeat_at=utcnow(), **values)
                ).rowcount
            self._written_done = values.get("progress_done", self._written_done)
        if not changed:
            self.lost = True

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                self._write()
            except Exception:  # noqa: BLE001  (a missed beat is not fatal; the next one may pass)
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
            if self.lost:
                return

    def start(self) -> JobProgress:
        """Start the heartbeat thread."""
        self._thread = threading.Thread(target=self._beat, name=f"job-{self.job_id}-heartbeat", daemon=True)
        self._thread.start()
        with _RUNNING_HERE_LOCK:
            _RUNNING_HERE[self.job_id] = self
        return self

    def stop(self) -> None:
        """Stop the heartbeat thread."""
        with _RUNNING_HERE_LOCK:
            if _RUNNING_HERE.get(self.job_id) is self:
                del _RUNNING_HERE[self.job_id]
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat_seconds + 5)

    def __enter__(self) -> JobProgress:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def finish_job(engine: Engine, job_id: int, token: str, summary: Any = None, *,
               progress: JobProgress | None = None, store_id: int | None = None) -> None:
    """Mark the job SUCCEEDED with what `summary` says it did, and keep its record errors.

    `summary` is what the service returned: a dataclass or mapping with `counts` and `errors`
    (records with `line`, `record`, `reason`) and any other fields, which become the job's
    `result`; or None. `progress` gives the last done/total reported. Raises `LeaseLost` (and
    writes nothing) when the job is no longer ours.
    """
    counts, errors, result = split_summary(summary)
    values: dict[str, Any] = dict(status=SUCCEEDED, counts=counts, result=result, error=None, claim_token=None,
                                  finished_at=utcnow(), heartbeat_at=utcnow())
    if progress is not None and (progress.done or progress.total is not None):
        total = progress.total
        values.update(progress_done=total if total is not None else progress.done, progress_total=total)
    with engine.begin() as connection:
        if errors:
            if store_id is None:
                store_id = connection.execute(select(Job.store_id).where(Job.id == job_id)).scalar_one()
            connection.execute(insert(JobError), [_error_row(store_id, job_id, e) for e in errors[:MAX_KEPT_ERRORS]])
        changed = connection.execute(
            update(Job).where(Job.id == job_id, Job.claim_token == token).values(**values)
        ).rowcount
        if not changed:
            connection.rollback()
            raise LeaseLost(f"job {job_id} was given to another worker")


def release_job(engine: Engine, job_id: int, token: str, error: str) -> None:
    """Give a job back after a failed attempt: QUEUED again, with the attempt's error.

    Whether it runs again is the broker's retry policy; when retries are exhausted, `fail_job`
    marks it FAILED.
    """
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job_id, Job.claim_token == token)
            .values(status=QUEUED, claim_token=None, error=error[:4000], heartbeat_at=utcnow())
        )


def fail_job(engine: Engine, job_id: int, error: str) -> bool:
    """Mark a QUEUED job FAILED with `error` (it will not be tried again); False if it was not QUEUED."""
    with engine.begin() as connection:
        return bool(connection.execute(
            update(Job).where(Job.id == job_id, Job.status == QUEUED)
            .values(status=FAILED, error=error[:4000], finished_at=utcnow(), claim_token=None)
        ).rowcount)


def mark_unsent(engine: Engine, job_ids: list[int]) -> None:
    """Record that the messages of these QUEUED jobs could not be sent (the broker was unreachable):
    their `heartbeat_at` becomes NULL, which the reaper's next pass sends again."""
    if not job_ids:
        return
    with engine.begin() as connection:
        connection.execute(update(Job).where(Job.id.in_(job_ids), Job.status == QUEUED).values(heartbeat_at=None))


def reap_stale_jobs(engine: Engine, *, lease_seconds: int, max_attempts: int, resend_after_seconds: int = 1800,
                    now: datetime | None = None) -> list[tuple[int, str]]:
    """Find jobs whose worker died or whose message was lost; return the (id, kind) to send again.

    - RUNNING with a heartbeat older than `lease_seconds`: QUEUED again (or FAILED once it has
      had `max_attempts` attempts), so that the next message claims it.
    - QUEUED whose message could not be sent (`heartbeat_at` NULL, see `mark_unsent`): sent again.
    - QUEUED and not sent for `resend_after_seconds` (`heartbeat_at` is the creation or the last
      send; an API process died between commit and send, or the broker lost its messages): sent again.

    Sending a job twice is harmless: only one message can claim it. Each row is changed by a
    conditional update, so two reapers running at once do not both act on one job.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=lease_seconds)
    forgotten = now - timedelta(seconds=resend_after_seconds)
    to_send: list[tuple[int, str]] = []
    with engine.begin() as connection:
        dead = connection.execute(
            select(Job.id, Job.kind, Job.attempts).where(Job.status == RUNNING, Job.heartbeat_at < stale)
        ).all()
        for job_id, kind, attempts in dead:
            gave_up = attempts >= max_attempts
            values = (
                dict(status=FAILED, finished_at=now,
                     error=f"Gave up after {attempts} attempts: the worker running it stopped each time.")
                if gave_up else
                dict(status=QUEUED, error="The worker running this job stopped responding; it was queued again.")
            )
            changed = connection.execute(
                update(Job).where(Job.id == job_id, Job.status == RUNNING, Job.heartbeat_at < stale)
                .values(claim_token=None, heartbeat_at=now, **values)
            ).rowcount
            if changed and not gave_up:
                to_send.append((job_id, kind))
        lost_message = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < forgotten)
        lost = connection.execute(
            select(Job.id, Job.kind).where(Job.status == QUEUED, lost_message).order_by(Job.id)
        ).all()
        for job_id, kind in lost:
            changed = connection.execute(
                update(Job).where(Job.id == job_id, Job.status == QUEUED, lost_message).values(heartbeat_at=now)
            ).rowcount
            if changed:
                to_send.append((job_id, kind))
    return to_send


def queued_jobs(engine: Engine) -> list[tuple[int, str]]:
    """Every QUEUED job (id, kind), oldest first: what an in-process broker lost when its process stopped."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(Job.id, Job.kind).where(Job.status == QUEUED).order_by(Job.id)
        )]


def split_summary(summary: Any) -> tuple[dict[str, Any], list[Any], dict[str, Any] | None]:
    """(counts, errors, result) of a service's summary: a dataclass, a mapping or None."""
    if summary is None:
        return {}, [], None
    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        fields = {field.name: getattr(summary, field.name) for field in dataclasses.fields(summary)}
    elif isinstance(summary, Mapping):
        fields = dict(summary)
    else:
        return {}, [], {"value": to_json(summary)}
    counts = {str(name): to_json(value) for name, value in dict(fields.pop("counts", None) or {}).items()}
    errors = list(fields.pop("errors", None) or [])
    result = {name: to_json(value) for name, value in fields.items()}
    return counts, errors, result or None


def to_json(value: Any) -> Any:
    """`value` as plain JSON: dates and paths as strings, Decimals as strings, dataclasses as dicts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, PurePath, uuid.UUID)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(item) for item in value]
    return str(value)


def _error_row(store_id: int, job_id: int, error: Any) -> dict[str, Any]:
    get = error.get if isinstance(error, Mapping) else lambda name, default=None: getattr(error, name, default)
    record = get("record")
    return {
        "store_id": store_id, "job_id": job_id, "line": get("line"),
        "record": None if record is None else str(record)[:500],
        "reason": str(get("reason", None) or error)[:2000], "created_at": utcnow(),
    }
