"""Connector work as jobs, in-process: `connectorSync` against the fake WooCommerce, and webhooks that are
verified, queued, answered at once, then applied by a worker."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, func, select

from crm_graph.models import Customer, Job, Order
from crm_graph.models.types import utcnow
from crm_graph.services.connectors import register_connector
from tests.workers.conftest import wait_for_job

crm_graph_woocommerce = pytest.importorskip("crm_graph_woocommerce")
from crm_graph_woocommerce.fake_server import FakeWooCommerce, SyntheticOrders, sample  # noqa: E402
from crm_graph_woocommerce.webhooks import signature  # noqa: E402

START_SYNC = """mutation($c: String!) { connectorSync(connector: $c) {
  __typename ... on Job { id kind status } ... on UserError { code field } } }"""
JOB = "query($id: ID!) { job(id: $id) { status attempts counts { name value } error } }"


@pytest.fixture
def shop():
    fake = FakeWooCommerce()
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


def _connect(engine, store, url: str, **extra) -> int:
    with Session(engine, expire_on_commit=False) as session:
        row = register_connector(session, store, "woocommerce",
                                 {"url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test", **extra})
        session.commit()
        return row.id


def _count(engine, store, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(model.store_id == store.id)).one()


def test_start_sync_runs_the_connector_as_a_job(api, store, engine, shop):
    shop.orders = SyntheticOrders(250, customers=20)
    _connect(engine, store, shop.url)
    key = api.key(store, "write")
    job = api.data(START_SYNC, {"c": "woocommerce"}, key=key)["connectorSync"]
    assert job["__typename"] == "Job" and job["kind"] == "SYNC"
    done = wait_for_job(engine, job["id"], timeout=60)
    assert done.status == "SUCCEEDED", done.error
    assert _count(engine, store, Order) == 250
    # Orders go to buyers 0..20 (i % 21): buyer 0 is a guest, matched by email like the others.
    assert _count(engine, store, Customer) == 21
    answer = api.data(JOB, {"id": job["id"]}, key=key)["job"]
    counts = {c["name"]: c["value"] for c in answer["counts"]}
    assert answer["status"] == "SUCCEEDED" and counts["rejected"] == 0


def test_a_second_start_sync_while_one_is_pending_returns_the_same_job(api, store, engine, shop):
    _connect(engine, store, shop.url)
    key = api.key(store, "write")
    with Session(engine, expire_on_commit=False) as session:
        from crm_graph.services.jobs import start_sync

        first = start_sync(session, store, "woocommerce")
        second = start_sync(session, store, "woocommerce")
        session.info.clear()  # not sent: this test only checks the rows
        session.commit()
    assert first.id == second.id
    with engine.begin() as connection:  # leave nothing queued behind
        connection.execute(Job.__table__.update().where(Job.id == first.id).values(status="FAILED"))
    assert api.data(START_SYNC, {"c": "shopify"}, key=key)["connectorSync"] == {
        "__typename": "NotFoundError", "code": "NOT_FOUND", "field": ["connector"]}


def test_a_webhook_is_verified_queued_answered_and_applied_once(api, store, engine):
    _connect(engine, store, "http://127.0.0.1:9", webhook_secret="s3cret")
    order = dict(sample("woocommerce_order_retrieve.json"), date_modified_gmt=utcnow().strftime("%Y-%m-%dT%H:%M:%S"))
    body = json.dumps(order).encode()
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "d-1",
               "X-WC-Webhook-Signature": signature(body, "s3cret"), "Content-Type": "application/json"}
    url = f"/webhooks/woocommerce/{store.slug}"
    answer = api.client.post(url, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    job = wait_for_job(engine, int(answer.json()["job"]))
    assert job.status == "SUCCEEDED" and job.kind == "WEBHOOK" and job.counts["duplicate"] == 0
    assert _count(engine, store, Order) == 1

    again = api.client.post(url, content=body, headers=headers)  # the platform delivers it again
    assert again.status_code == 200 and again.json()["job"] == answer.json()["job"]
    assert _count(engine, store, Order) == 1

    forged = api.client.post(url, content=body, headers={**headers, "X-WC-Webhook-Signature": "AAAA"})
    assert forged.status_code == 401
