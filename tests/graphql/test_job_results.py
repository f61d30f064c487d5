"""Jobs as clients see them: an import with extreme rows succeeds and rejects them by line; a job's
`result` names files, never where the server keeps them."""

from __future__ import annotations

from tests.graphql.customers.helpers import wait_for_job

IMPORT = """mutation($csv: String!) { customersImport(csv: $csv) { __typename ... on Job { id } } }"""
EXPORT = """mutation { customersExport { __typename ... on Job { id } } }"""
JOB = "query($id: ID!) { job(id: $id) { status error result download { url } errors { line reason } } }"


def _finished(api, key, job_id) -> dict:
    return wait_for_job(api, key, job_id, timeout=30.0, query=JOB)


def _no_absolute_path(value, where: str) -> None:
    text = repr(value)
    assert where not in text and "\\\\" not in text, value
    for item in (value.values() if isinstance(value, dict) else []):
        assert not (isinstance(item, str) and item.startswith("/")), value


def test_import_with_extreme_rows_succeeds_and_rejects_them(api, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path)
    key = api.key(store, "write")
    csv = ("customer_id,email,created_at\n"
           "1,anna@example.com,2026-01-01\n"
           "2,old@example.com,0001-01-01\n"
           f"{'9' * 10_000},long@example.com,2026-01-01\n"
           "4,jan@example.com,2026-01-02T10:00:00+02:00\n")
    job = _finished(api, key, api.data(IMPORT, {"csv": csv}, key=key)["customersImport"]["id"])
    assert job["status"] == "SUCCEEDED" and job["error"] is None, job
    assert [(error["line"], error["reason"]) for error in job["errors"]] == [
        (3, "created_at '0001-01-01' is outside the years 1900–2999"),
        (4, "customer_id is longer than 255 characters"),
    ]
    assert api.data("{ customers { totalCount } }", key=key)["customers"]["totalCount"] == 2
    _no_absolute_path(job["result"], str(tmp_path))
    assert job["result"]["file"].endswith(".csv") and job["result"]["rejects_file"].endswith(".rejects.csv")


def test_export_result_names_the_file_and_the_download_still_works(api, store, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path)
    key = api.key(store, "write")
    api.data(IMPORT, {"csv": "customer_id,email\n1,a@example.com\n"}, key=key)
    job = _finished(api, key, api.data(EXPORT, key=key)["customersExport"]["id"])
    assert job["status"] == "SUCCEEDED", job
    _no_absolute_path(job["result"], str(tmp_path))
    assert job["result"]["file"].startswith("customers-") and "rows" in job["result"]
    assert api.client.get(job["download"]["url"]).status_code == 200


def test_the_job_kinds_of_the_api_are_those_of_the_service():
    from crm_graph.graphql.jobs.types import JobKind
    from crm_graph.services.jobs import JobKind as ServiceJobKind

    assert {kind.name: kind.value for kind in JobKind} == {kind.name: kind.value for kind in ServiceJobKind}
