"""The glue between a job row and the services that take a session and a store.

Actors stay one line; what they need beyond the service call (a session, the store row, the file
an export goes to) is here.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crm_graph.db import session_scope
from crm_graph.errors import NotFound
from crm_graph.models import Job, Segment, Store
from crm_graph.models.enums import JobStatus
from crm_graph.services.jobs import JobKind
from crm_graph.services.job_runs import JobProgress, split_summary


def _store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"Store {store_id} no longer exists.")
    return store


#: Days precomputed per transaction: a worker that dies loses at most this many days of work.
PRECOMPUTE_CHUNK_DAYS = 31


def precompute_for_job(engine: Engine, store_id: int, first_day: date, last_day: date,
                       progress: JobProgress) -> dict[str, Any]:
    """Precompute the store's stored figures for the range and every stored day made stale since
    (`precompute.refresh_stored`: daily aggregates, the RFM preset grids of the last day, clearing the
    invalidations it claimed as the job, `progress.job_id`), then snapshot segments.

    The days are committed a chunk at a time, so a worker that dies in a long catch-up loses one
    chunk at most; the next attempt claims the invalidations again and recomputes from the start,
    and since precomputing a day replaces its rows, no day is ever counted twice. The session stays
    on one connection for the whole range: a range keeps its running per-customer state in TEMP
    tables of that connection.
    """
    from crm_graph.services.analytics.precompute import refresh_stored

    job_id = getattr(progress, "job_id", None)
    if job_id is not None:
        _wait_for_earlier_precomputes(engine, store_id, job_id)
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        try:
            summary = refresh_stored(session, _store(session, store_id), first_day, last_day, claimant=job_id or 0,
                                     progress=progress, chunk_days=PRECOMPUTE_CHUNK_DAYS, after_chunk=session.commit)
            session.commit()
        except BaseException:
            connection.invalidate()  # not back to the pool: its TEMP tables end with the server session
            raise
    counts = {name: value for name, value in split_summary(summary)[0].items() if isinstance(value, int)}
    snapshots = _snapshot_segments(engine, store_id, summary.last_day)
    if snapshots is not None:
        counts["segment_snapshots"] = snapshots
    return {"counts": counts, "first_day": summary.first_day, "last_day": summary.last_day}


#: Seconds between two looks at whether an earlier precompute of the store is still running.
PRECOMPUTE_WAIT_SECONDS = 0.5


def _wait_for_earlier_precomputes(engine: Engine, store_id: int, job_id: int) -> None:
    """Wait while another PRECOMPUTE job of the store, started before this one, is running.

    One refresh of a store at a time: a refresh deletes the invalidations it claimed, and a slower
    one running beside it could write rows computed before a change that the faster one has already
    cleared. The job that started first goes on (ties by id); the reaper ends a dead one's run.
    """
    while True:
        with session_scope(engine) as session:
            me = session.get(Job, job_id)
            if me is None or me.started_at is None:
                return
            earlier = session.exec(select(Job.id).where(
                Job.store_id == store_id, Job.kind == JobKind.PRECOMPUTE.value, Job.id != job_id,
                Job.status == JobStatus.RUNNING.value,
                or_(Job.started_at < me.started_at, and_(Job.started_at == me.started_at, Job.id < job_id)),
            ).limit(1)).first()
        if earlier is None:
            return
        time.sleep(PRECOMPUTE_WAIT_SECONDS)


def _snapshot_segments(engine: Engine, store_id: int, day: date) -> int | None:
    """Snapshot segment sizes as of `day` when `day` is the store's yesterday (None otherwise).

    A snapshot is today's membership: it stands for the end of yesterday only, so a catch-up of
    older days does not write one for them.
    """
    from crm_graph.models.types import utcnow
    from crm_graph.services.segments import snapshot_segments

    with session_scope(engine) as session:
        store = _store(session, store_id)
        if day != utcnow().astimezone(store.tz).date() - timedelta(days=1):
            return None
        return snapshot_segments(session, store, day)


def refresh_segments_for_job(engine: Engine, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Recount one segment (params `segment_id`) or all of the store's segments, one commit each."""
    from crm_graph.services.segments import refresh_segment_count

    with session_scope(engine) as session:
        if job.params.get("segment_id") is not None:
            ids = [int(job.params["segment_id"])]
        else:
            ids = list(session.exec(select(Segment.id).where(Segment.store_id == job.store_id).order_by(Segment.id)))
    progress(0, len(ids))
    for done, segment_id in enumerate(ids, start=1):
        with session_scope(engine) as session:
            refresh_segment_count(session, _store(session, job.store_id), segment_id)
        progress(done, len(ids))
    return {"counts": {"segments": len(ids)}}


def fit_clv_for_job(engine: Engine, store_id: int, progress: JobProgress) -> dict[str, Any]:
    """Fit the store's CLV models up to its today; a store with too little history ends as
    NOT_ENOUGH_HISTORY in the model row, which is a finished job, not a failure."""
    from crm_graph.services.lifecycle.clv import fit_clv_models

    with session_scope(engine) as session:
        store = session.get(Store, store_id)
    summary = fit_clv_models(engine, store, progress=progress)
    return {"counts": dict(summary.counts), "errors": list(summary.errors),
            "status": summary.status.value, "reason": summary.reason, "model_id": summary.model_id}
