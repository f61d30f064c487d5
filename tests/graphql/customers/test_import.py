"""customersImport: CSV text becomes a CSV_IMPORT job; bad rows are reported, good rows import."""

from __future__ import annotations

import time

IMPORT = """mutation($csv: String!, $mapping: String) { customersImport(csv: $csv, mapping: $mapping) {
  __typename ... on Job { id } ... on UserError { code message field } } }"""
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
    result = api.data(IMPORT, {"csv": csv}, key=key)["customersImport"]
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
    assert api.data(IMPORT, {"csv": ""}, key=key)["customersImport"]["__typename"] == "ValidationError"
    assert api.data(IMPORT, {"csv": "email\n"}, key=key)["customersImport"]["__typename"] == "ValidationError"
    unknown = api.data(IMPORT, {"csv": "email\na@example.com\n", "mapping": "nope"}, key=key)["customersImport"]
    assert unknown["__typename"] == "ValidationError"
    assert api.error_codes(IMPORT, {"csv": "email\na@example.com\n"}, key=api.key(store, "read")) == ["FORBIDDEN"]


FULL_JOB = """query($id: ID!) { job(id: $id) { status counts { name value } result download { url }
  errors { line reason } } }"""


def test_the_import_job_counts_ignored_columns_and_rejects_and_offers_the_rejects_report(api, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path)
    key = api.key(store, "write")
    csv = ("customer_id,email,country,Loyalty Points\n"
           "1,anna@example.com,Poland,10\n"
           "2,jan@example.com,ZZZ,3\n")
    job_id = api.data(IMPORT, {"csv": csv}, key=key)["customersImport"]["id"]
    wait(api, key, job_id)
    job = api.data(FULL_JOB, {"id": job_id}, key=key)["job"]
    counts = {count["name"]: count["value"] for count in job["counts"]}
    assert job["status"] == "SUCCEEDED"
    assert (counts["imported"], counts["rejected"], counts["ignored_columns"]) == (1, 1, 1)
    assert job["result"]["outcome"] == "PARTIAL" and job["result"]["ignored_columns"] == ["Loyalty Points"]
    assert job["result"]["warnings"][0].startswith("ignored columns: Loyalty Points")
    assert job["errors"] == [{"line": 3, "reason": "country 'ZZZ' is not a country (an ISO 3166 code such as PL or "
                                                   "POL, or a name such as Poland)"}]
    # The upload is gone; its rejects report is downloadable through the job's signed link.
    assert [path.name.endswith(".rejects.csv") for path in tmp_path.rglob("customers-*")] == [True]
    response = api.client.get(job["download"]["url"])
    assert response.status_code == 200 and "rejects-" in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[0] == "line,record,reason" and lines[1].startswith(',(note),"ignored columns: Loyalty Points')
    assert lines[2].startswith("3,,\"country 'ZZZ' is not a country")


def test_an_import_job_without_rejects_is_a_plain_success_without_a_download(api, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path)
    key = api.key(store, "write")
    job_id = api.data(IMPORT, {"csv": "email,country\na@example.com,pl\n"}, key=key)["customersImport"]["id"]
    wait(api, key, job_id)
    job = api.data(FULL_JOB, {"id": job_id}, key=key)["job"]
    counts = {count["name"]: count["value"] for count in job["counts"]}
    assert job["status"] == "SUCCEEDED" and job["result"]["outcome"] == "IMPORTED" and job["download"] is None
    assert (counts["imported"], counts["rejected"], counts["ignored_columns"]) == (1, 0, 0)
