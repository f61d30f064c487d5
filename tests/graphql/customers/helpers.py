"""Helpers for tests of background customer jobs."""

from __future__ import annotations

import time

JOB = """query($id: ID!) { job(id: $id) {
  id kind status counts { name value } error progress { done total } download { url expiresAt } } }"""


def wait_for_job(api, key: str, job_id: str, timeout: float = 20.0, query: str = JOB) -> dict:
    """Poll `job(id:)` (with `query`'s selection) until the job has ended; returns it, with `counts`
    as a dict when selected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.data(query, {"id": job_id}, key=key)["job"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            if "counts" in job:
                job = {**job, "counts": {count["name"]: count["value"] for count in job["counts"]}}
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
