"""Helpers of the worker tests: waiting for a job to finish."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session

from crm_graph.graphql.relay import node_row_id
from crm_graph.models import Job

FINISHED = ("SUCCEEDED", "FAILED")


def job_row_id(job_id: int | str) -> int:
    """The row id of a job named by its row id or by its global id (as the API gives it)."""
    if isinstance(job_id, int):
        return job_id
    row_id = node_row_id(job_id, "Job")
    assert row_id is not None, f"{job_id!r} is not the global id of a job"
    return row_id


def wait_for_job(engine, job_id: int | str, *, timeout: float = 30.0, statuses=FINISHED) -> Job:
    """Poll job `job_id` (a row id or a global id) until its status is one of `statuses`; fail the test after
    `timeout` seconds."""
    job_id = job_row_id(job_id)
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine, expire_on_commit=False) as session:
            job = session.get(Job, job_id)
        if job is not None and job.status in statuses:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} is still {job.status if job else 'missing'} after {timeout} s "
                        f"(error: {job.error if job else None})")
        time.sleep(0.05)
