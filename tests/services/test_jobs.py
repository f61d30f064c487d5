"""Job rows: keyed creation, claims and leases, progress, finishing, and the reaper."""

from dataclasses import dataclass, field
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from crm_graph.errors import UserError
from crm_graph.models import Job, JobError
from crm_graph.models.types import utcnow
from crm_graph.services.job_runs import (
    JobProgress, LeaseLost, claim_job, fail_job, finish_job, reap_stale_jobs, release_job,
)
from crm_graph.services.jobs import create_job, get_job, jobs_by_id, jobs_count, jobs_page, start_keyed_job
from crm_graph.services.keyset import encode_cursor


def _new_job(engine, store, kind="PRECOMPUTE", **params) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = create_job(session, store, kind, params)
        session.commit()
        return job


def _row(engine, job_id) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Job, job_id)


def test_a_key_makes_a_job_unique_in_its_store(engine, make_store):
    store, other = make_store(), make_store()
    with Session(engine, expire_on_commit=False) as session:
        first = start_keyed_job(session, store, "PRECOMPUTE", {"last_day": "2026-11-21"}, key="precompute:2026-11-21")
        again = start_keyed_job(session, store, "PRECOMPUTE", {"last_day": "2026-11-21"}, key="precompute:2026-11-21")
        elsewhere = start_keyed_job(session, other, "PRECOMPUTE", {}, key="precompute:2026-11-21")
        session.info.clear()  # nothing to send in this test
        session.commit()
    assert first is not None and again is None and elsewhere is not None
    with Session(engine) as session:
        assert len(session.exec(select(Job).where(Job.store_id == store.id)).all()) == 1


def test_an_unknown_kind_is_refused(engine, store):
    with Session(engine) as session, pytest.raises(ValueError):
        create_job(session, store, "MINING", {})


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_job_is_claimed_once_and_its_lease_guards_every_write(engine, store, backend):
    job = _new_job(engine, store)
    claim = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    assert claim is not None and claim.job.status == "RUNNING" and claim.job.attempts == 1
    assert claim_job(engine, job.id, lease_seconds=60, max_attempts=3) is None  # held by a live worker

    progress = JobProgress(engine, job.id, claim.token, min_interval=0, heartbeat_seconds=0.05)
    stranger = JobProgress(engine, job.id, "not-the-token", min_interval=0, heartbeat_seconds=0.05)
    if backend == "postgresql":  # a call writes at once
        progress(5, 10)
        assert (_row(engine, job.id).progress_done, _row(engine, job.id).progress_total) == (5, 10)
        with pytest.raises(LeaseLost):
            stranger(6, 10)
    else:  # the heartbeat writes the progress (see JobProgress), and finds the lease lost
        progress(5, 10)
        assert _row(engine, job.id).progress_done == 0
        with progress:
            _until(lambda: (_row(engine, job.id).progress_done, _row(engine, job.id).progress_total) == (5, 10),
                   "the heartbeat never wrote the progress")
        stranger(6, 10)
        with stranger:
            _until(lambda: stranger.lost, "the heartbeat never found the lease lost")
        with pytest.raises(LeaseLost):
            stranger(7, 10)
    with pytest.raises(LeaseLost):
        finish_job(engine, job.id, "not-the-token", None)
    assert _row(engine, job.id).status == "RUNNING"


def test_a_heartbeat_writes_the_progress_the_interval_held_back(engine, store):
    job = _new_job(engine, store, kind="SYNC")
    claim = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    progress = JobProgress(engine, job.id, claim.token, min_interval=3600, heartbeat_seconds=0.05)
    progress(1000, None)  # held back: at most once an hour here
    assert _row(engine, job.id).progress_done == 0
    with progress:  # the job now waits on a slow page; its heartbeat shows how far it got
        _until(lambda: _row(engine, job.id).progress_done == 1000, "the heartbeat never wrote the progress")


def test_a_dead_workers_job_is_claimed_again_after_its_lease(engine, store):
    job = _new_job(engine, store)
    first = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    with engine.begin() as connection:  # the worker died two minutes ago
        connection.execute(Job.__table__.update().where(Job.id == job.id)
                           .values(heartbeat_at=utcnow() - timedelta(minutes=2)))
    second = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    assert second is not None and second.token != first.token and second.job.attempts == 2
    with pytest.raises(LeaseLost):  # the presumed-dead worker wakes up: it may not finish
        finish_job(engine, job.id, first.token, {"counts": {"rows": 1}})
    finish_job(engine, job.id, second.token, {"counts": {"rows": 2}})
    assert _row(engine, job.id).counts == {"rows": 2}


def test_a_job_that_kills_its_worker_every_time_fails_after_max_attempts(engine, store):
    job = _new_job(engine, store)
    for _ in range(2):
        assert claim_job(engine, job.id, lease_seconds=60, max_attempts=2) is not None
        with engine.begin() as connection:
            connection.execute(Job.__table__.update().where(Job.id == job.id)
                               .values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    assert claim_job(engine, job.id, lease_seconds=60, max_attempts=2) is None
    row = _row(engine, job.id)
    assert row.status == "FAILED" and "2 attempts" in row.error and row.finished_at is not None


@dataclass
class _Error:
    line: int | None
    record: str | None
    reason: str


@dataclass
class _Summary:
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    path: str = ""


def test_finishing_keeps_counts_errors_and_result(engine, store):
    job = _new_job(engine, store, kind="CSV_IMPORT")
    claim = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    progress = JobProgress(engine, job.id, claim.token, min_interval=3600)
    progress(0, 3)
    progress(3, 3)  # not written yet (at most once an hour here): finishing writes the last values
    summary = _Summary(counts={"created": 2, "rejected": 1},
                       errors=[_Error(line=3, record="b@x", reason="Email is not valid.")], path="out.csv")
    finish_job(engine, job.id, claim.token, summary, progress=progress)
    row = _row(engine, job.id)
    assert row.status == "SUCCEEDED" and row.finished_at >= row.started_at
    assert row.counts == {"created": 2, "rejected": 1}
    assert row.result == {"path": "out.csv"} and (row.progress_done, row.progress_total) == (3, 3)
    with Session(engine) as session:
        errors = session.exec(select(JobError).where(JobError.job_id == job.id)).all()
    assert [(e.line, e.record, e.reason) for e in errors] == [(3, "b@x", "Email is not valid.")]
    # A duplicate message afterwards finds it finished.
    assert claim_job(engine, job.id, lease_seconds=60, max_attempts=3) is None


def test_release_then_fail(engine, store):
    job = _new_job(engine, store)
    claim = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    release_job(engine, job.id, claim.token, "OperationalError: server closed the connection")
    row = _row(engine, job.id)
    assert row.status == "QUEUED" and row.error.startswith("OperationalError") and row.claim_token is None
    assert fail_job(engine, job.id, "gave up") is True
    assert _row(engine, job.id).status == "FAILED"
    assert fail_job(engine, job.id, "again") is False


def test_the_reaper_requeues_dead_jobs_and_resends_forgotten_ones(engine, store):
    dead, forgotten, fresh, done = (_new_job(engine, store) for _ in range(4))
    for job in (dead, fresh):
        claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    finish_job(engine, done.id, claim_job(engine, done.id, lease_seconds=60, max_attempts=3).token, None)
    old = utcnow() - timedelta(hours=1)
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().where(Job.id.in_([dead.id, forgotten.id])).values(heartbeat_at=old))
    sent = reap_stale_jobs(engine, lease_seconds=60, max_attempts=3, resend_after_seconds=1800)
    mine = sorted(job_id for job_id, _ in sent if job_id in {dead.id, forgotten.id, fresh.id, done.id})
    assert mine == sorted([dead.id, forgotten.id])
    assert _row(engine, dead.id).status == "QUEUED" and "stopped responding" in _row(engine, dead.id).error
    assert _row(engine, fresh.id).status == "RUNNING"
    # A second reaper right after finds nothing left to do.
    again = reap_stale_jobs(engine, lease_seconds=60, max_attempts=3, resend_after_seconds=1800)
    assert not {dead.id, forgotten.id} & {job_id for job_id, _ in again}


def test_jobs_are_listed_newest_first_and_scoped_to_their_store(engine, make_store):
    store, other = make_store(), make_store()
    ids = [_new_job(engine, store, kind).id for kind in ("SYNC", "customers.export", "SYNC")]
    foreign = _new_job(engine, other, "SYNC")
    with Session(engine) as session:
        page = jobs_page(session, store, size=2)
        assert [job.id for job in page.rows] == [ids[2], ids[1]] and page.has_next_page and not page.has_previous_page
        rest = jobs_page(session, store, size=2, cursor=page.cursors[-1])
        assert [job.id for job in rest.rows] == [ids[0]] and not rest.has_next_page and rest.has_previous_page
        back = jobs_page(session, store, size=1, backward=True, cursor=rest.cursors[0])
        assert [job.id for job in back.rows] == [ids[1]] and back.has_previous_page and back.has_next_page
        assert [job.id for job in jobs_page(session, store, kind="SYNC").rows] == [ids[2], ids[0]]
        assert jobs_count(session, store) == 3 and jobs_count(session, store, kind="SYNC") == 2
        assert jobs_by_id(session, store, [ids[0], foreign.id]) == {ids[0]: get_job(session, store, ids[0])}
        assert get_job(session, store, foreign.id) is None
        with pytest.raises(UserError):
            jobs_page(session, store, size=0)
        with pytest.raises(UserError):  # a cursor of another list
            jobs_page(session, store, cursor=encode_cursor("segments", ["a", 1]))
