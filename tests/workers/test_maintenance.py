"""Maintenance: expired exports are deleted; the reaper sends dead workers' jobs again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from crm_graph.models import Job
from crm_graph.models.types import utcnow
from crm_graph.services.job_runs import claim_job
from crm_graph.settings import Settings
from workers import maintenance
from workers.broker import use_database


def _job(engine, store, **values) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = Job(store_id=store.id, **values)
        session.add(job)
        session.commit()
        return job


def test_expired_exports_are_deleted_and_fresh_ones_kept(engine, db_url, store, tmp_path):
    use_database(Settings(database_url=db_url, _env_file=None))
    old_file, new_file = tmp_path / "old.csv", tmp_path / "new.csv"
    old_file.write_text("id\n1\n")
    new_file.write_text("id\n2\n")
    now = utcnow()
    old = _job(engine, store, kind="customers.export", status="SUCCEEDED", finished_at=now - timedelta(hours=25),
               result={"path": str(old_file), "rows": 1})
    new = _job(engine, store, kind="customers.export", status="SUCCEEDED", finished_at=now - timedelta(hours=1),
               result={"path": str(new_file), "rows": 1})
    assert maintenance.cleanup_exports(now=now) >= 1
    assert not old_file.exists() and new_file.exists()
    with Session(engine) as session:
        assert session.get(Job, old.id).result == {"rows": 1, "expired": True}
        assert session.get(Job, new.id).result == {"path": str(new_file), "rows": 1}
    assert maintenance.cleanup_exports(now=now) == 0  # a second run finds nothing to do


def test_the_reaper_sends_a_dead_workers_job_again(engine, db_url, store, monkeypatch):
    use_database(Settings(database_url=db_url, _env_file=None, job_lease_seconds=60))
    sent = []
    monkeypatch.setattr(maintenance, "send_job", lambda job_id, kind: sent.append((job_id, kind)))
    job = _job(engine, store, kind="SYNC", params={"connector_id": 1})
    claim_job(engine, job.id, lease_seconds=60, max_attempts=5)
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().where(Job.id == job.id)
                           .values(heartbeat_at=utcnow() - timedelta(minutes=10)))
    assert job.id in maintenance.reap_and_resend()
    assert (job.id, "SYNC") in sent
