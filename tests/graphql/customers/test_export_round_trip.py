"""Round trip: customers exported with customersExport and re-imported (customersImport, mapping picked
from the header) into a fresh store come back with every field and consent state unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.graphql.customers.helpers import wait_for_job
from tests.ingest_helpers import rows as query

FIXTURES = Path(__file__).resolve().parents[3] / "plugins" / "csv" / "tests" / "fixtures"

IMPORT = """mutation($csv: String!, $mapping: String) { customersImport(csv: $csv, mapping: $mapping) {
  __typename ... on Job { id } ... on UserError { code message field } } }"""
EXPORT = "mutation { customersExport { __typename ... on Job { id } ... on UserError { message } } }"

OURS = (
    "customer_id,email,phone,first_name,last_name,gender,country,city,created_at,email_consent,sms_consent,tags\n"
    "c-1,ann.zielinska@example.com,+48600100200,=Ann,Zielińska,F,PL,Gdańsk,2025-04-01T10:00:00+00:00,subscribed,"
    "unsubscribed,\"vip, wholesale\"\n"
    ",noid.person@example.com,,Nils,\"O'Hara, Jr.\",MALE,IE,Cork,2025-05-02T11:30:00+00:00,pending,,\n"
    "c-3,,+14155550123,Rosa,,OTHER,US,,2025-06-03T00:00:00+00:00,,subscribed,b2b\n"
)


def _run(api, key, query, variables=None):
    name = "customersImport" if "customersImport" in query else "customersExport"
    job = api.data(query, variables, key=key)[name]
    assert job["__typename"] == "Job", job
    done = wait_for_job(api, key, job["id"])
    assert done["status"] == "SUCCEEDED", done
    return done


def _export(api, key):
    done = _run(api, key, EXPORT)
    response = api.client.get(done["download"]["url"])
    assert response.status_code == 200
    return response.text


def _comparable(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    return sorted(({k: v for k, v in row.items() if k != "id"} for row in rows), key=lambda r: r["crm_ids"])


def test_exported_customers_reimport_unchanged(api, engine, make_store, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path / "exports")
    api.client.app.state.settings.import_dir = str(tmp_path / "imports")
    first, second = make_store(), make_store()
    key, other = api.key(first, "write"), api.key(second, "write")
    for text, mapping in ((OURS, None),
                          ((FIXTURES / "shopify_customers_export.csv").read_text("utf-8"), "shopify-customers"),
                          ((FIXTURES / "mailchimp_unsubscribed_members.csv").read_text("utf-8"), "auto"),
                          ((FIXTURES / "mailchimp_cleaned_members.csv").read_text("utf-8"), "auto")):
        done = _run(api, key, IMPORT, {"csv": text, "mapping": mapping})
        assert done["counts"]["rejected"] == 0, done
    exported = _export(api, key)
    before = _comparable(exported)
    assert len(before) == 7 and {r["email_consent"] for r in before} >= {"SUBSCRIBED", "UNSUBSCRIBED", "INVALID",
                                                                        "PENDING", "NOT_SUBSCRIBED"}

    done = _run(api, other, IMPORT, {"csv": exported, "mapping": "auto"})
    assert done["counts"]["rejected"] == 0, done
    assert _comparable(_export(api, other)) == before
    # What the export guards against spreadsheets (a leading "=") is stored as it was, not with the guard.
    assert query(engine, "SELECT first_name, last_name, gender, city FROM customer WHERE store_id = :s AND email = "
                         "'ann.zielinska@example.com'", s=second.id) == [("=Ann", "Zielińska", "FEMALE", "Gdańsk")]
    ann = next(r for r in before if r["crm_ids"] == "csv:c-1")
    assert (ann["tags"], ann["email_consent"], ann["sms_consent"]) == ("vip|wholesale", "SUBSCRIBED", "UNSUBSCRIBED")
    nils = next(r for r in before if r["email"] == "noid.person@example.com")
    assert nils["crm_ids"] == "csv:email:noid.person@example.com" and nils["last_name"] == "O'Hara, Jr."


def test_a_known_export_sent_without_mapping_is_refused_with_its_name(api, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path / "imports")
    key = api.key(store, "write")
    text = (FIXTURES / "shopify_customers_export.csv").read_text("utf-8")
    result = api.data(IMPORT, {"csv": text}, key=key)["customersImport"]
    assert result["__typename"] == "ValidationError" and "--mapping shopify-customers" in result["message"], result
    assert not list((tmp_path / "imports").rglob("*.csv"))  # nothing kept, no job
