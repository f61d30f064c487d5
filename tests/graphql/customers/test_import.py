"""importCustomers: CSV text becomes a CSV_IMPORT job; bad rows are reported, good rows import."""

from __future__ import annotations

import time

IMPORT = """mutation($csv: String!, $mapping: String) { importCustomers(csv: $csv, mapping: $mapping) {
  __typename ... on Job { id } ... on MutationError { code message } } }"""
JOB = "query($id: ID!) { job(id: $id) { status counts { name value } errors { line reason } } }"
COUNT = "query($f: CustomerFilter) { customers(filter: $f) { totalCount nodes { email phone emailConsent: consents { bucket } } } }"


def wait(api, key, job_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.data(JOB, {"id": job_id}, key=key)["job"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        time.sleep(0.05)
    raise AssertionError("import did not finish")


def test_import_customers_from_csv_text(api, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path)  # uploads land here, not in the working directory
    key = api.key(store, "write")
    csv = ("customer_id;email;first_name;country;phone;email_consent\n"
           "1;anna@example.com;Anna;PL;601234567;SUBSCRIBED\n"
           "2;not-an-email;Bad;PL;;\n"
           "3;jan@example.com;Jan;PL;;\n")
    result = api.data(IMPORT, {"csv": csv}, key=key)["importCustomers"]
    assert result["__typename"] == "Job"
    job = wait(api, key, result["id"])
    assert job["status"] == "SUCCEEDED"
    assert [error["line"] for error in job["errors"]] == [3]
    data = api.data(COUNT, {"f": {"countries": ["PL"], "emailConsent": ["SUBSCRIBED"]}}, key=key)["customers"]
    assert data["totalCount"] == 1 and data["nodes"][0]["email"] == "anna@example.com"
    assert data["nodes"][0]["phone"] == "+48601234567"
    assert api.data(COUNT, key=key)["customers"]["totalCount"] == 2


def test_import_refusals(api, store):
    key = api.key(store, "write")
    assert api.data(IMPORT, {"csv": ""}, key=key)["importCustomers"]["__typename"] == "ValidationError"
    assert api.data(IMPORT, {"csv": "email\n"}, key=key)["importCustomers"]["__typename"] == "ValidationError"
    unknown = api.data(IMPORT, {"csv": "email\na@example.com\n", "mapping": "nope"}, key=key)["importCustomers"]
    assert unknown["__typename"] == "ValidationError"
    assert api.error_codes(IMPORT, {"csv": "email\na@example.com\n"}, key=api.key(store, "read")) == ["FORBIDDEN"]
