"""customersExport: a background job writing CSV, downloadable from a signed, store-scoped, expiring link."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timezone

from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from crm_graph.models import Job
from crm_graph.services.export import COLUMNS, export_customers, make_download_token, read_download_token
from crm_graph.services.filters import CustomerFilter
from crm_graph.services.segments import create_segment
from crm_graph.settings import DEV_SECRET_KEY
from tests.factories import StoreBuilder, utc
from tests.graphql.customers.helpers import wait_for_job

EXPORT = """mutation($filter: CustomerFilter, $segmentId: ID) { customersExport(filter: $filter, segmentId: $segmentId) {
  __typename ... on Job { id kind status download { url } } ... on UserError { code message field } } }"""
ERASE = "mutation($ids: [ID!]) { customersErase(ids: $ids) { __typename } }"


def _shop(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com", first_name="=cmd|' /C calc'!A0", country="PL", phone="+48601234567")
        b.identity(anna, "woocommerce", "12")
        b.identity(anna, "shopify", "77")
        b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2025, 1, 1))
        b.tag(anna, "vip", utc(2026, 1, 1))
        b.tag(anna, "b2b", utc(2026, 1, 1))
        b.order(anna, "12.50", utc(2026, 1, 2))
        jan = b.customer(email="jan@example.com", country="PL")
        b.customer(email="bob@example.com", country="US")
        b.commit()
    return anna, jan


def _download(api, key, variables, folder=None):
    job = api.data(EXPORT, variables, key=key)["customersExport"]
    assert job["__typename"] == "Job" and job["kind"] == "CUSTOMERS_EXPORT", job
    assert job["download"] is None  # not before the file is written
    done = wait_for_job(api, key, job["id"])
    assert done["status"] == "SUCCEEDED", done
    response = api.client.get(done["download"]["url"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return done, list(csv.DictReader(io.StringIO(response.text)))


def test_export_by_filter_and_download(api, store, engine, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path)
    anna, jan = _shop(engine, store)
    key = api.key(store, "write")
    job, rows = _download(api, key, {"filter": {"countries": ["PL"]}})
    assert job["counts"] == {"customers": 2} and job["progress"] == {"done": 2, "total": 2}
    expires = datetime.fromisoformat(job["download"]["expiresAt"])
    assert 0 < (expires - datetime.now(timezone.utc)).total_seconds() <= api.client.app.state.settings.export_link_seconds
    assert [row["email"] for row in rows] == ["anna@example.com", "jan@example.com"]
    first = rows[0]
    assert first["crm_ids"] == "woocommerce:12 shopify:77"
    assert first["first_name"] == "'=cmd|' /C calc'!A0"  # no formula reaches a spreadsheet
    assert first["phone"] == "+48601234567" and first["total_spent"] == "12.50" and first["orders_count"] == "1"
    assert first["email_consent"] == "SUBSCRIBED" and first["sms_consent"] == "" and first["tags"] == "b2b|vip"
    assert list(rows[0]) == COLUMNS


def test_export_of_a_segment_leaves_out_erased_customers(api, store, engine, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path)
    anna, jan = _shop(engine, store)
    key = api.key(store, "write")
    with Session(engine, expire_on_commit=False) as session:
        segment = global_id("Segment", create_segment(session, store, "PL", CustomerFilter(countries=["PL"])).id)
        session.commit()
    assert api.data(ERASE, {"ids": [global_id("Customer", anna.id)]}, key=key)["customersErase"]["__typename"] == "BulkChange"
    _, rows = _download(api, key, {"segmentId": segment})
    assert [row["email"] for row in rows] == ["jan@example.com"]
    assert "anna" not in "".join(",".join(row.values()) for row in rows)


def test_export_errors_and_links(api, store, make_store, engine, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path)
    _shop(engine, store)
    key = api.key(store, "write")
    for segment_id in (global_id("Segment", 999999), "999999", global_id("Customer", 1), "%%"):
        missing = api.data(EXPORT, {"segmentId": segment_id}, key=key)["customersExport"]
        assert (missing["__typename"], missing["code"], missing["field"]) == ("NotFoundError", "NOT_FOUND", ["segmentId"])
    unknown = api.data(EXPORT, {"filter": {"segmentId": global_id("Segment", 999999)}}, key=key)["customersExport"]
    assert (unknown["__typename"], unknown["field"]) == ("NotFoundError", ["filter", "segmentId"])
    both = api.data(EXPORT, {"segmentId": global_id("Segment", 1), "filter": {"countries": ["PL"]}}, key=key)["customersExport"]
    assert both["__typename"] == "ValidationError"
    job, _ = _download(api, key, {})
    good = job["download"]["url"].rsplit("/", 1)[1]
    store_id, job_id = read_download_token(DEV_SECRET_KEY, good)
    assert store_id == store.id
    other = make_store()
    forged = make_download_token(DEV_SECRET_KEY, other.id, job_id, int(time.time()) + 60)
    expired = make_download_token(DEV_SECRET_KEY, store.id, job_id, int(time.time()) - 1)
    tampered = good[:-2] + ("AA" if good[-2:] != "AA" else "BB")
    wrong_secret = make_download_token("another secret", store.id, job_id, int(time.time()) + 60)
    assert api.client.get(f"/exports/{forged}").status_code == 404  # the job is not the other store's
    assert api.client.get(f"/exports/{expired}").status_code == 410
    assert api.client.get(f"/exports/{tampered}").status_code == 404
    assert api.client.get(f"/exports/{wrong_secret}").status_code == 404
    assert api.client.get("/exports/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert api.data("query($id: ID!) { job(id: $id) { id download { url } } }", {"id": job["id"]},
                    key=api.key(other))["job"] is None
    listed = api.data("{ jobs(kind: CUSTOMERS_EXPORT) { nodes { id download { url } } } }", key=key)["jobs"]["nodes"]
    assert [node["id"] for node in listed] == [job["id"]] and listed[0]["download"]["url"].startswith("/exports/")


def test_an_expired_export_has_no_download(api, store, engine, tmp_path):
    api.client.app.state.settings.export_dir = str(tmp_path)
    _shop(engine, store)
    key = api.key(store, "write")
    job, _ = _download(api, key, {})
    with Session(engine) as session:
        row = session.get(Job, int(job["id"]))
        row.result = {"rows": 3, "expired": True}  # what the hourly clean-up leaves
        session.add(row)
        session.commit()
    assert wait_for_job(api, key, job["id"])["download"] is None


def test_export_service_streams_in_batches(engine, store, tmp_path):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        from sqlalchemy import insert

        from crm_graph.models import Customer

        session.execute(insert(Customer), [
            {"store_id": store.id, "email": f"c{i}@example.com", "created_at": utc(2026, 1, 1), "updated_at": utc(2026, 1, 1)}
            for i in range(4500)
        ])
        b.commit()
    calls = []
    summary = export_customers(engine, store.id, CustomerFilter(), tmp_path / "out.csv", progress=lambda d, t: calls.append((d, t)))
    assert summary.counts == {"customers": 4500}
    assert calls == [(0, 4500), (2000, 4500), (4000, 4500), (4500, 4500)]
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 4501
    assert not (tmp_path / "out.csv.part").exists()
