"""Embedded mode: jobs started through GraphQL run on the API process's worker threads.

The precompute service is replaced here by small stand-ins that fail in chosen ways, to check the
job machinery itself (retries, failures, progress); the real actors are tested with their services.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

import workers.tasks
from crm_graph.errors import UserError
from tests.workers.conftest import wait_for_job

START = """mutation($first: Date!, $last: Date!) {
  startPrecompute(firstDay: $first, lastDay: $last) { id kind status progress { done total } }
}"""
JOB = """query($id: ID!) {
  job(id: $id) { id kind status attempts error progress { done total fraction } counts { name value }
                 result startedAt finishedAt errorCount errors { line record reason } }
}"""


def _start(api, store, first="2026-01-01", last="2026-01-03") -> tuple[str, int]:
    key = api.key(store, "write")
    job = api.data(START, {"first": first, "last": last}, key=key)["startPrecompute"]
    assert job["kind"] == "PRECOMPUTE" and job["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    return key, int(job["id"])


def test_a_started_job_runs_in_process_and_reports_progress(api, store, engine, monkeypatch):
    def precompute(_engine, store_id, first_day, last_day, progress):
        days = (last_day - first_day).days + 1
        progress(0, days)
        for done in range(1, days + 1):
            progress(done, days)
        return {"counts": {"days": days}, "errors": [], "store": store_id}

    monkeypatch.setattr(workers.tasks, "precompute_for_job", precompute)
    key, job_id = _start(api, store)
    wait_for_job(engine, job_id)
    job = api.data(JOB, {"id": str(job_id)}, key=key)["job"]
    assert job["status"] == "SUCCEEDED" and job["attempts"] == 1 and job["error"] is None
    assert job["progress"] == {"done": 3, "total": 3, "fraction": 1.0}
    assert job["counts"] == [{"name": "days", "value": 3}]
    assert job["result"] == {"store": store.id} and job["startedAt"] <= job["finishedAt"]


def test_a_transient_error_is_retried_with_backoff(api, store, engine, monkeypatch):
    calls = []

    def precompute(_engine, _store_id, _first, _last, _progress):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return {"counts": {"days": 3}}

    monkeypatch.setattr(workers.tasks, "precompute_for_job", precompute)
    key, job_id = _start(api, store)
    job = wait_for_job(engine, job_id, timeout=30)
    assert job.status == "SUCCEEDED" and job.attempts == 2 and len(calls) == 2 and job.error is None


@pytest.mark.parametrize("error, expected", [
    (UserError("The file has no `email` column."), "The file has no `email` column."),
    (KeyError("total"), "KeyError: 'total'"),
])
def test_bad_data_and_bugs_fail_the_job_without_retries(api, store, engine, monkeypatch, error, expected):
    calls = []

    def precompute(*_args):
        calls.append(1)
        raise error

    monkeypatch.setattr(workers.tasks, "precompute_for_job", precompute)
    key, job_id = _start(api, store)
    wait_for_job(engine, job_id)
    job = api.data(JOB, {"id": str(job_id)}, key=key)["job"]
    assert job["status"] == "FAILED" and job["error"] == expected and job["attempts"] == 1 and len(calls) == 1


def test_jobs_of_another_store_are_invisible(api, make_store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    mine, theirs = make_store(), make_store()
    _, job_id = _start(api, theirs)
    wait_for_job(engine, job_id)
    key = api.key(mine, "read")
    assert api.data(JOB, {"id": str(job_id)}, key=key)["job"] is None
    assert api.data("{ jobs { nodes { id } hasNextPage } }", key=key)["jobs"] == {"nodes": [], "hasNextPage": False}


def test_jobs_lists_filters_and_pages(api, store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    ids = [_start(api, store)[1] for _ in range(3)]
    for job_id in ids:
        wait_for_job(engine, job_id)
    key = api.key(store, "read")
    query = "query($after: String) { jobs(kind: PRECOMPUTE, status: SUCCEEDED, first: 2, after: $after) { nodes { id } endCursor hasNextPage } }"
    page = api.data(query, key=key)["jobs"]
    assert [int(n["id"]) for n in page["nodes"]] == [ids[2], ids[1]] and page["hasNextPage"]
    page = api.data(query, {"after": page["endCursor"]}, key=key)["jobs"]
    assert [int(n["id"]) for n in page["nodes"]] == [ids[0]] and not page["hasNextPage"]
    assert api.data("{ jobs(status: FAILED) { nodes { id } } }", key=key)["jobs"]["nodes"] == []


def test_start_precompute_checks_its_arguments_and_role(api, store):
    write = api.key(store, "write")
    codes = api.error_codes(START, {"first": "2026-01-05", "last": "2026-01-01"}, key=write)
    assert codes == ["BAD_USER_INPUT"]
    assert api.error_codes(START, {"first": "2026-01-01", "last": "2999-01-01"}, key=write) == ["BAD_USER_INPUT"]
    # a day whose look-back windows would leave the calendar fails here, not later in the worker
    assert api.error_codes(START, {"first": "0001-01-01", "last": "0001-01-01"}, key=write) == ["BAD_USER_INPUT"]
    assert api.error_codes(START, {"first": "2026-01-01", "last": "2026-01-02"}, key=api.key(store, "read")) == ["FORBIDDEN"]


def test_the_real_precompute_runs_as_a_job(api, store, engine):
    from datetime import date

    from sqlmodel import Session, select

    from crm_graph.models import DailyCustomerCount
    from tests.factories import StoreBuilder, utc

    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        ann = builder.customer(email="ann@example.com", created_at=utc(2026, 1, 1, 9))
        builder.customer(created_at=utc(2026, 1, 2, 9))  # an anonymous visitor
        builder.order(ann, "40.00", utc(2026, 1, 2, 10))
        builder.commit()
    key, job_id = _start(api, store, "2026-01-01", "2026-01-03")
    job = wait_for_job(engine, job_id)
    assert job.status == "SUCCEEDED", job.error
    assert job.counts["days"] == 3 and (job.progress_done, job.progress_total) == (3, 3)
    with Session(engine) as session:
        rows = session.exec(select(DailyCustomerCount).where(DailyCustomerCount.store_id == store.id)
                            .order_by(DailyCustomerCount.day)).all()
    # Jan 1: Ann only; Jan 2 and 3: Ann and the visitor; Ann identified; Ann a spender from Jan 2.
    assert [(r.day, r.customers, r.identified, r.spenders) for r in rows] == [
        (date(2026, 1, 1), 1, 1, 0), (date(2026, 1, 2), 2, 1, 1), (date(2026, 1, 3), 2, 1, 1)]


def test_segment_counts_are_refreshed_by_a_job(store, engine, api):
    from sqlmodel import Session

    from crm_graph.models import Segment
    from crm_graph.services.filters import CustomerFilter
    from crm_graph.services.jobs import start_job
    from crm_graph.services.segments import create_segment
    from tests.factories import StoreBuilder

    api.key(store)  # the app (and its worker threads) is up
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        for index in range(3):
            builder.customer(email=f"s{index}@example.com")
        builder.customer()  # an anonymous visitor
        builder.commit()
        everyone = create_segment(session, store, "Everyone", CustomerFilter())
        session.commit()
        job = start_job(session, store, "SEGMENT_REFRESH", {})
        session.commit()
    done = wait_for_job(engine, job.id)
    assert done.status == "SUCCEEDED" and done.counts == {"segments": 1}
    with Session(engine) as session:
        assert session.get(Segment, everyone.id).member_count == 4
