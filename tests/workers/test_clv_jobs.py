"""The CLV fit as a background job: started through GraphQL, and planned once a day by the scheduler."""

from __future__ import annotations

from sqlmodel import Session, select

from crm_graph.models import Job
from crm_graph.settings import Settings
from tests.factories import StoreBuilder, utc
from tests.workers.conftest import wait_for_job
from workers.scheduler import plan_clv_fits

START = "mutation { clvFitStart { __typename ... on Job { id kind status } } }"
MODEL = "{ clvModel { status reason customers repeatCustomers } }"


def test_a_started_fit_runs_and_reports_not_enough_history(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        buyer = builder.customer(email="only@example.com")
        builder.order(buyer, "20.00", utc(2026, 1, 5))
        builder.order(buyer, "30.00", utc(2026, 2, 5))
        builder.commit()
    key = api.key(store, "write")
    job = api.data(START, key=key)["clvFitStart"]
    assert job["__typename"] == "Job" and job["kind"] == "CLV_FIT"
    finished = wait_for_job(engine, job["id"])
    assert finished.status == "SUCCEEDED", finished.error
    assert finished.result["status"] == "NOT_ENOUGH_HISTORY"
    model = api.data(MODEL, key=key)["clvModel"]
    assert model["status"] == "NOT_ENOUGH_HISTORY" and model["customers"] == 1 and model["repeatCustomers"] == 1
    assert model["reason"]


def test_a_read_key_cannot_start_a_fit(api, store):
    assert api.error_codes(START, key=api.key(store, "read")) == ["FORBIDDEN"]


def test_the_scheduler_plans_one_fit_per_store_and_day(engine, make_store, monkeypatch):
    sent = []
    monkeypatch.setattr("workers.dispatch.send_job", lambda job_id, kind, broker=None: sent.append(job_id))
    store = make_store(timezone="Europe/Warsaw")
    settings = Settings(_env_file=None)
    now = utc(2026, 3, 10, 23, 40)  # 00:40 in Warsaw: 2026-03-10 is due
    plan_clv_fits(engine, settings, now=now)
    plan_clv_fits(engine, settings, now=now)
    with Session(engine) as session:
        jobs = list(session.exec(select(Job).where(Job.store_id == store.id, Job.kind == "CLV_FIT")))
    assert [job.key for job in jobs] == ["clv:2026-03-10"]
    assert sent.count(jobs[0].id) == 1
