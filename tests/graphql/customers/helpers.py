"""Helpers for tests of background customer jobs."""

from __future__ import annotations

import time

JOB = """query($id: ID!) { customerJob(id: $id) { id kind status counts error progressDone progressTotal downloadUrl } }"""


def wait_for_job(api, key: str, job_id: str, timeout: float = 20.0) -> dict:
    """Poll `customerJob` until the job has ended; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.data(JOB, {"id": job_id}, key=key)["customerJob"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
