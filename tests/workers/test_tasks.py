"""The glue between job rows and services (`workers.tasks`), run for real on both databases."""

from __future__ import annotations

import time
from datetime import date

import pytest

from sqlmodel import Session, select

import workers.tasks
from crm_graph.models import DailySpenderThresholds, DailyTagCount
from crm_graph.services.analytics.spenders import spender_segments_at
from crm_graph.services.analytics.tags import tag_counts_at
from tests.services.analytics.test_precompute import build_history


def test_a_catch_up_commits_chunk_by_chunk_and_keeps_its_running_state(engine, make_store, monkeypatch):
    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        build_history(session, store)
    monkeypatch.setattr(workers.tasks, "PRECOMPUTE_CHUNK_DAYS", 4)
    calls = []
    result = workers.tasks.precompute_for_job(engine, store.id, date(2026, 3, 20), date(2026, 4, 3),
                                              lambda done, total: calls.append((done, total)))
    assert result["counts"]["days"] == 15 and calls[-1] == (15, 15)
    with Session(engine) as session:
        rows = session.exec(select(DailySpenderThresholds).where(DailySpenderThresholds.store_id == store.id)
                            .order_by(DailySpenderThresholds.day)).all()
        assert len(rows) == 15
        for row in rows:
            live = spender_segments_at(session, store, row.day)
            assert (row.spenders, row.value_low, row.small, row.big, row.repeat) == (
                live.spenders, live.value_low or 0, live.small, live.big, live.repeat), row.day
        tags = session.exec(select(DailyTagCount.tag_id, DailyTagCount.customers).where(
            DailyTagCount.store_id == store.id, DailyTagCount.day == date(2026, 3, 28))).all()
        assert sorted(tags) == sorted((t.tag_id, t.customers) for t in tag_counts_at(session, store, date(2026, 3, 28)))


def test_a_failed_catch_up_can_run_again(engine, make_store, monkeypatch):
    from crm_graph.services.analytics.running import RunningState

    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        build_history(session, store)
    monkeypatch.setattr(workers.tasks, "PRECOMPUTE_CHUNK_DAYS", 2)
    advance = RunningState.advance

    def failing(self, day):
        if day == date(2026, 3, 24):
            raise RuntimeError("database went away")
        advance(self, day)

    monkeypatch.setattr(RunningState, "advance", failing)
    with pytest.raises(RuntimeError):
        workers.tasks.precompute_for_job(engine, store.id, date(2026, 3, 20), date(2026, 3, 26), lambda *_: None)
    monkeypatch.setattr(RunningState, "advance", advance)
    result = workers.tasks.precompute_for_job(engine, store.id, date(2026, 3, 20), date(2026, 3, 26), lambda *_: None)
    assert result["counts"]["days"] == 7
    with Session(engine) as session:
        row = session.exec(select(DailySpenderThresholds).where(
            DailySpenderThresholds.store_id == store.id, DailySpenderThresholds.day == date(2026, 3, 26))).one()
        assert row.spenders == spender_segments_at(session, store, date(2026, 3, 26)).spenders


def test_a_catch_up_runs_while_its_heartbeat_writes(engine, make_store, monkeypatch):
    """On the embedded SQLite file the heartbeat (another connection) commits while a chunk has read
    and not yet written, and the job reports progress while its chunk holds the write lock; either
    used to end the job with "database is locked"."""
    from crm_graph.services.analytics.running import RunningState
    from crm_graph.services.job_runs import JobProgress, claim_job
    from crm_graph.services.jobs import create_job

    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        build_history(session, store)
        job = create_job(session, store, "PRECOMPUTE", {})
        session.commit()
    claim = claim_job(engine, job.id, lease_seconds=60, max_attempts=3)
    monkeypatch.setattr(workers.tasks, "PRECOMPUTE_CHUNK_DAYS", 4)
    advance = RunningState.advance

    def slow(self, day):  # each day outlasts a heartbeat: beats land inside every chunk
        advance(self, day)
        time.sleep(0.03)

    monkeypatch.setattr(RunningState, "advance", slow)
    progress = JobProgress(engine, job.id, claim.token, min_interval=0, heartbeat_seconds=0.01)
    with progress:
        result = workers.tasks.precompute_for_job(engine, store.id, date(2026, 3, 20), date(2026, 4, 3), progress)
    assert result["counts"]["days"] == 15 and not progress.lost
