"""Embedded mode: jobs started through GraphQL run on the API process's worker threads.

The precompute service is replaced here by small stand-ins that fail in chosen ways, to check the
job machinery itself (retries, failures, progress); the real actors are tested with their services.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

import workers.tasks
from crm_graph.errors import UserError
from crm_graph.graphql.relay import global_id
from tests.workers.conftest import job_row_id, wait_for_job

START = """mutation($first: Date!, $last: Date!) {
  precomputeStart(firstDay: $first, lastDay: $last) {
    __typename ... on Job { id kind status progress { done total } } ... on UserError { code message field }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Job { kind } } }"
PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  jobs(kind: PRECOMPUTE, status: SUCCEEDED, first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
JOB = """query($id: ID!) {
  job(id: $id) { id kind status attempts error progress { done total fraction } counts { name value }
                 result startedAt finishedAt errorCount errors { line record reason } }
}"""


def _start(api, store, first="2026-01-01", last="2026-01-03") -> tuple[str, str]:
    """Start a precompute through GraphQL: the write key and the job's global id."""
    key = api.key(store, "write")
    job = api.data(START, {"first": first, "last": last}, key=key)["precomputeStart"]
    assert job["__typename"] == "Job", job
    assert job["kind"] == "PRECOMPUTE" and job["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    return key, job["id"]


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
    job = api.data(JOB, {"id": job_id}, key=key)["job"]
    assert job["id"] == job_id and job["status"] == "SUCCEEDED" and job["attempts"] == 1 and job["error"] is None
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
    job = api.data(JOB, {"id": job_id}, key=key)["job"]
    assert job["status"] == "FAILED" and job["error"] == expected and job["attempts"] == 1 and len(calls) == 1


def test_jobs_of_another_store_are_invisible(api, make_store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    mine, theirs = make_store(), make_store()
    _, job_id = _start(api, theirs)
    wait_for_job(engine, job_id)
    key = api.key(mine, "read")
    assert api.data(JOB, {"id": job_id}, key=key)["job"] is None
    assert api.data(NODE, {"id": job_id}, key=key)["node"] is None
    assert api.data("{ jobs { totalCount nodes { id } pageInfo { hasNextPage } } }", key=key)["jobs"] == {
        "totalCount": 0, "nodes": [], "pageInfo": {"hasNextPage": False}}


def test_a_job_is_a_node_and_only_its_global_id_finds_it(api, store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    key, job_id = _start(api, store)
    wait_for_job(engine, job_id)
    row_id = job_row_id(job_id)
    assert api.data(NODE, {"id": job_id}, key=key)["node"] == {"__typename": "Job", "id": job_id, "kind": "PRECOMPUTE"}
    assert api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [job_id, "%%%"]},
                    key=key)["nodes"] == [{"id": job_id}, None]
    for wrong in (str(row_id), "%%%", global_id("Segment", row_id), global_id("Job", row_id + 10_000)):
        assert api.data(JOB, {"id": wrong}, key=key)["job"] is None, wrong
        assert api.data(NODE, {"id": wrong}, key=key)["node"] is None, wrong


def test_jobs_lists_filters_and_pages(api, store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    ids = [_start(api, store)[1] for _ in range(3)]
    for job_id in ids:
        wait_for_job(engine, job_id)
    key = api.key(store, "read")
    page = api.data(PAGE, {"first": 2}, key=key)["jobs"]
    assert [n["id"] for n in page["nodes"]] == [ids[2], ids[1]] and page["totalCount"] == 3
    assert [e["node"]["id"] for e in page["edges"]] == [ids[2], ids[1]]
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    rest = api.data(PAGE, {"first": 2, "after": page["pageInfo"]["endCursor"]}, key=key)["jobs"]
    assert [n["id"] for n in rest["nodes"]] == [ids[0]]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    assert api.data("{ jobs(status: FAILED) { totalCount nodes { id } } }", key=key)["jobs"] == {
        "totalCount": 0, "nodes": []}
    assert api.data("{ jobs(kind: SYNC) { nodes { id } } }", key=key)["jobs"]["nodes"] == []


def test_jobs_page_backward(api, store, engine, monkeypatch):
    monkeypatch.setattr(workers.tasks, "precompute_for_job", lambda *args: None)
    ids = [_start(api, store)[1] for _ in range(5)]
    for job_id in ids:
        wait_for_job(engine, job_id)
    key = api.key(store, "read")
    newest_first = ids[::-1]
    oldest = api.data(PAGE, {"last": 2}, key=key)["jobs"]  # the end of the list: the two oldest
    assert [n["id"] for n in oldest["nodes"]] == newest_first[3:]
    assert oldest["pageInfo"]["hasPreviousPage"] and not oldest["pageInfo"]["hasNextPage"]
    middle = api.data(PAGE, {"last": 2, "before": oldest["pageInfo"]["startCursor"]}, key=key)["jobs"]
    assert [n["id"] for n in middle["nodes"]] == newest_first[1:3]
    assert middle["pageInfo"]["hasPreviousPage"] and middle["pageInfo"]["hasNextPage"]
    newest = api.data(PAGE, {"last": 2, "before": middle["pageInfo"]["startCursor"]}, key=key)["jobs"]
    assert [n["id"] for n in newest["nodes"]] == newest_first[:1]
    assert not newest["pageInfo"]["hasPreviousPage"] and newest["pageInfo"]["hasNextPage"]
    # forward again from the middle page's end: what follows it
    after = api.data(PAGE, {"first": 10, "after": middle["pageInfo"]["endCursor"]}, key=key)["jobs"]
    assert [n["id"] for n in after["nodes"]] == newest_first[3:]
    assert api.error_codes(PAGE, {"last": 2, "after": middle["pageInfo"]["endCursor"]}, key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(PAGE, {"last": 0}, key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(PAGE, {"before": "not a cursor"}, key=key) == ["BAD_USER_INPUT"]


def test_precompute_start_checks_its_arguments_and_role(api, store):
    write = api.key(store, "write")

    def refused(first, last):
        answer = api.data(START, {"first": first, "last": last}, key=write)["precomputeStart"]
        assert answer["__typename"] == "ValidationError" and answer["code"] == "BAD_USER_INPUT", answer
        return answer["field"]

    assert refused("2026-01-05", "2026-01-01") == ["lastDay"]  # the last day before the first
    assert refused("2026-01-01", "2999-01-01") == ["lastDay"]  # not a finished day
    # a day whose look-back windows would leave the calendar fails here, not later in the worker
    assert refused("0001-01-01", "0001-01-01") == ["firstDay"]
    assert refused("1990-01-01", "2026-01-01") == ["firstDay"]  # more than 3660 days
    assert api.data("{ jobs { totalCount } }", key=write)["jobs"]["totalCount"] == 0  # none was started
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
