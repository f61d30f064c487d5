"""Data retention: an upload is deleted when its import ends, the maintenance prunes old webhook
payloads (and forgotten uploads), and a GDPR erasure scrubs the person from what is still kept."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from crm_graph.graphql.relay import global_id
from crm_graph.models import Customer, Job
from crm_graph.models.types import utcnow
from crm_graph.services.customers.importing import start_customer_import
from crm_graph.settings import Settings
from crm_graph.graphql.relay import global_id
from tests.graphql.customers.helpers import wait_for_job as wait_for_api_job
from tests.webhook_helpers import WEBHOOK_SECRET, registered_fake_woocommerce
from tests.workers.conftest import wait_for_job
from workers import maintenance
from workers.broker import use_database

crm_graph_woocommerce = pytest.importorskip("crm_graph_woocommerce")
from crm_graph_woocommerce.fake_server import sample  # noqa: E402
from crm_graph_woocommerce.webhooks import signature  # noqa: E402

SECRET = WEBHOOK_SECRET
IMPORT = """mutation($csv: String!) { customersImport(csv: $csv) {
  __typename ... on Job { id } ... on UserError { code message } } }"""
ERASE = "mutation($ids: [ID!]) { customersErase(ids: $ids) { __typename ... on BulkChange { changed } } }"


def _files(folder) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def woo(engine, store):
    """A fake WooCommerce, registered for `store` with the webhook secret."""
    with registered_fake_woocommerce(engine, store) as fake:
        yield fake


def deliver(api, store, customer: dict, delivery: str) -> Job:
    """A signed customer.updated delivery, through the endpoint; its WEBHOOK job once applied."""
    body = json.dumps(customer).encode()
    answer = api.client.post(f"/webhooks/woocommerce/{store.slug}", content=body, headers={
        "X-WC-Webhook-Topic": "customer.updated", "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Signature": signature(body, SECRET), "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return wait_for_job(api.engine, int(answer.json()["job"]))


def customer(customer_id: int, email: str, first_name: str) -> dict:
    """The vendor's sample customer, modified now, as someone else."""
    return dict(sample("woocommerce_customer_retrieve.json"), id=customer_id, email=email, first_name=first_name,
                billing={}, shipping={}, date_modified_gmt=utcnow().strftime("%Y-%m-%dT%H:%M:%S"))


def test_an_uploaded_csv_is_deleted_when_its_import_ends(api, engine, store, tmp_path):
    api.client.app.state.settings.import_dir = str(tmp_path)
    key = api.key(store, "write")
    good = api.data(IMPORT, {"csv": "customer_id;email;first_name\n1;anna@example.com;Anna\n2;not-an-email;Bad\n"},
                    key=key)["customersImport"]
    assert wait_for_api_job(api, key, good["id"])["status"] == "SUCCEEDED"
    # The upload goes; its rejects report stays for download (`Job.download`) until the uploads' age limit.
    assert [name.endswith(".csv.rejects.csv") for name in _files(tmp_path)] == [True]
    for report in tmp_path.rglob("*.rejects.csv"):
        report.unlink()
    with Session(engine, expire_on_commit=False) as session:  # an import that fails for good (a bad-data error)
        failing = start_customer_import(session, store, "email\nanna@example.com\n", str(tmp_path))
        failing.params = {**failing.params, "mapping": "no-such-mapping"}
        session.add(failing)
        session.commit()  # sends the job
    assert wait_for_job(engine, failing.id).status == "FAILED"
    assert _files(tmp_path) == []


def test_the_maintenance_prunes_old_webhook_payloads_and_forgotten_uploads(api, engine, db_url, store, woo,
                                                                           tmp_path, monkeypatch):
    settings = Settings(database_url=db_url, _env_file=None, import_dir=str(tmp_path), webhook_retention_days=7)
    use_database(settings)
    monkeypatch.setattr(maintenance, "worker_settings", lambda: settings)
    old = deliver(api, store, customer(70, "old@example.com", "Old"), "p-1")
    new = deliver(api, store, customer(71, "new@example.com", "New"), "p-2")
    with engine.begin() as connection:
        connection.execute(Job.__table__.update().where(Job.id == old.id)
                           .values(finished_at=utcnow() - timedelta(days=8)))
    forgotten, recent = tmp_path / str(store.id) / "customers-a.csv", tmp_path / str(store.id) / "customers-b.csv"
    forgotten.parent.mkdir(parents=True)
    forgotten.write_text("email\nold@example.com\n")
    recent.write_text("email\nnew@example.com\n")
    two_days_ago = time.time() - 2 * 86400
    os.utime(forgotten, (two_days_ago, two_days_ago))

    done = maintenance.apply_retention()
    assert done["webhook_payloads"] >= 1 and done["uploads"] >= 1
    with Session(engine) as session:
        assert session.get(Job, old.id) is None  # the payload went with its job
        assert json.loads(base64.b64decode(session.get(Job, new.id).params["body"]))["first_name"] == "New"
    assert not forgotten.exists() and recent.exists()
    assert maintenance.apply_retention() == {"uploads": 0, "webhook_payloads": 0}  # a second run: nothing to do


def test_erasure_scrubs_stored_webhook_payloads_and_waiting_uploads(api, engine, store, woo, tmp_path):
    key = api.key(store, "write")
    john = deliver(api, store, customer(80, "john.doe@example.com", "John"), "e-1")
    jane = deliver(api, store, customer(81, "jane@example.com", "Jane"), "e-2")
    with Session(engine, expire_on_commit=False) as session:  # an upload whose job has not run yet
        waiting = start_customer_import(session, store, "customer_id;email;first_name\n"
                                        "80;john.doe@example.com;John\n81;jane@example.com;Jane\n", str(tmp_path))
        session.info.clear()  # not sent: it stays on disk, waiting
        session.commit()
    upload = waiting.params["path"]
    with Session(engine) as session:
        john_id = session.exec(select(Customer.id).where(
            Customer.store_id == store.id, Customer.email == "john.doe@example.com")).one()
    try:
        assert api.data(ERASE, {"ids": [global_id("Customer", john_id)]}, key=key)["customersErase"]["changed"] == 1
        with Session(engine) as session:
            scrubbed = session.get(Job, john.id).params
            kept = session.get(Job, jane.id).params
        assert "body" not in scrubbed and "headers" not in scrubbed and scrubbed["payload_removed"] == "erasure"
        assert b"jane@example.com" in base64.b64decode(kept["body"])
        with open(upload, encoding="utf-8") as file:
            text = file.read()
        assert "john" not in text.lower() and "jane@example.com" in text
    finally:
        with engine.begin() as connection:  # leave nothing queued behind
            connection.execute(Job.__table__.update().where(Job.id == waiting.id)
                               .values(status="FAILED", finished_at=datetime.now(timezone.utc)))
