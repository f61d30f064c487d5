"""Helpers of the worker tests: waiting for a job to finish."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session

from crm_graph.models import Job

FINISHED = ("SUCCEEDED", "FAILED")


def wait_for_job(engine, job_id: int, *, timeout: float = 30.0, statuses=FINISHED) -> Job:
    """Poll job `job_id` until its status is one of `statuses`; fail the test after `timeout` seconds."""
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
