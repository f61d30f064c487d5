"""WooCommerce webhooks through the HTTP endpoint: signature checked, topics applied, redeliveries ignored.

Deletions are confirmed with the shop (the fake WooCommerce here), and deliveries are dated by their
``date_modified_gmt``, so the samples are sent as if just modified.
"""

import json
from datetime import datetime, timezone

import pytest

from sqlmodel import Session

from crm_graph.services.connectors import register_connector
from crm_graph_woocommerce.fake_server import FakeWooCommerce, sample
from crm_graph_woocommerce.webhooks import signature
from tests.ingest_helpers import count, rows

SECRET = "wh-secret"


def fresh(payload: dict) -> dict:
    """`payload` as the shop sends it right after a change: modified now."""
    return dict(payload, date_modified_gmt=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.fixture
def shop():
    fake = FakeWooCommerce(key="ck", secret="cs", timeout_seconds=0.6)
    fake.url = fake.start()
    yield fake
    fake.stop()



@pytest.fixture(autouse=True)
def apply_at_once(api):
    """Apply deliveries in the request (the app enqueues them for a worker; that path is the workers' tests)."""
    from crm_graph.web.webhooks import dispatch

    api.client.app.state.webhook_dispatch = dispatch

def setup(engine, store, url="http://127.0.0.1:9"):
    with Session(engine) as session:
        register_connector(session, store, "woocommerce", {
            "url": url, "consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": SECRET,
            "timeout": 0.5, "max_retries": 0})
        session.commit()


def deliver(api, store, topic, payload, *, secret=SECRET, delivery="d1"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature(body, secret),
               "X-WC-Webhook-Delivery-ID": delivery, "Content-Type": "application/json"}
    return api.client.post(f"/webhooks/woocommerce/{store.slug}", content=body, headers=headers)


def test_signed_order_webhooks_are_applied_once(api, engine, store, shop):
    setup(engine, store, shop.url)
    order = fresh(sample("woocommerce_orders_list.json")[1])
    response = deliver(api, store, "order.created", order)
    assert response.status_code == 200 and response.json()["status"] == "applied"
    assert response.json()["counts"]["created"] == 1
    assert deliver(api, store, "order.created", order).json()["status"] == "duplicate"
    assert deliver(api, store, "order.updated", order, delivery="d2").json()["counts"]["unchanged"] == 1
    assert rows(engine, "SELECT external_id, total FROM orders WHERE store_id = :s", s=store.id)[0][0] == "723"
    assert deliver(api, store, "order.deleted", {"id": 723}, delivery="d3").json()["counts"]["deleted"] == 1  # shop: 404
    assert count(engine, "orders", store.id) == 0


def test_bad_signatures_change_nothing(api, engine, store):
    setup(engine, store)
    customer = fresh(sample("woocommerce_customer_retrieve.json"))
    assert deliver(api, store, "customer.created", customer, secret="wrong").status_code == 401
    body = json.dumps(customer).encode()
    tampered = api.client.post(f"/webhooks/woocommerce/{store.slug}", content=body.replace(b"John", b"Evil"),
                               headers={"X-WC-Webhook-Topic": "customer.created",
                                        "X-WC-Webhook-Signature": signature(body, SECRET)})
    assert tampered.status_code == 401
    assert count(engine, "customer", store.id) == 0
    assert deliver(api, store, "customer.created", customer).status_code == 200
    assert count(engine, "customer", store.id) == 1


def test_the_ping_unknown_stores_and_unregistered_connectors(api, engine, store):
    setup(engine, store)
    ping = deliver(api, store, "", b"webhook_id=15")
    assert ping.status_code == 200 and ping.json()["counts"] == {}
    other = type(store)(slug="nope", name="nope")
    assert deliver(api, other, "order.created", {"id": 1}).status_code == 404
    assert api.client.post(f"/webhooks/shopify/{store.slug}", content=b"{}").status_code == 404
