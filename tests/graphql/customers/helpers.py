"""Helpers for tests of background customer jobs."""

from __future__ import annotations

import time

JOB = """query($id: ID!) { job(id: $id) {
  id kind status counts { name value } error progress { done total } download { url expiresAt } } }"""


def wait_for_job(api, key: str, job_id: str, timeout: float = 20.0) -> dict:
    """Poll `job(id:)` until the job has ended; returns it, with `counts` as a dict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.data(JOB, {"id": job_id}, key=key)["job"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return {**job, "counts": {count["name"]: count["value"] for count in job["counts"]}}
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
