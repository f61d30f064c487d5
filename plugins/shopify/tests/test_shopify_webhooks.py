"""Shopify webhooks through the HTTP endpoint: HMAC, deduplication by webhook id, consent topics.

Deletions are confirmed with the shop (the fake Shopify here), and deliveries are dated by their
``updated_at`` and ``X-Shopify-Triggered-At``, so the samples are sent as if just changed.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest

from sqlmodel import Session, select

from crm_graph.models import ConsentEvent

from crm_graph.services.connectors import register_connector
from crm_graph_shopify.fake_server import FakeShopify, sample
from crm_graph_shopify.webhooks import signature
from tests.ingest_helpers import count, rows

SECRET = "app-secret"
#: When the deliveries of these tests were sent (recent: older ones are refused as stale).
SENT = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)


def fresh(payload: dict) -> dict:
    """`payload` as Shopify sends it right after a change: updated now."""
    return dict(payload, updated_at=datetime.now(timezone.utc).isoformat())


@pytest.fixture
def shop():
    fake = FakeShopify(token="shpat_x", timeout_seconds=0.6)
    fake.url = fake.start()
    yield fake
    fake.stop()



@pytest.fixture(autouse=True)
def apply_at_once(api):
    """Apply deliveries in the request (the app enqueues them for a worker; that path is the workers' tests)."""
    from crm_graph.web.webhooks import dispatch

    api.client.app.state.webhook_dispatch = dispatch

def setup(engine, store, url):
    with Session(engine) as session:
        register_connector(session, store, "shopify", {
            "shop_url": url, "access_token": "shpat_x", "app_secret": SECRET, "timeout": 0.5, "max_retries": 0})
        session.commit()


def deliver(api, store, topic, payload, webhook_id, *, secret=SECRET, triggered=SENT.isoformat()):
    body = json.dumps(payload).encode()
    return api.client.post(f"/webhooks/shopify/{store.slug}", content=body, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature(body, secret), "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": triggered, "Content-Type": "application/json"})


def test_customer_consent_and_deletion_topics(api, engine, store, shop):
    setup(engine, store, shop.url)
    created = fresh(sample("shopify_webhook_customers_create.json"))
    assert deliver(api, store, "customers/create", created, "w1").status_code == 200
    assert deliver(api, store, "customers/create", created, "w1").json()["status"] == "duplicate"
    assert count(engine, "webhook_delivery", store.id) == 2  # its delivery id and its content hash
    consent = dict(sample("shopify_webhook_customers_email_marketing_consent_update.json"))
    consent["customer_id"] = 706405506930370084  # the sample's id was rounded by its scrape (see SOURCES.md)
    consent["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in",
                                          "consent_updated_at": (SENT - timedelta(minutes=5)).isoformat()}
    answer = deliver(api, store, "customers_email_marketing_consent/update", consent, "w2").json()
    assert answer["counts"]["created"] == 1
    sms = dict(sample("shopify_webhook_customers_marketing_consent_update.json"), id=706405506930370084)
    sms["sms_marketing_consent"] = {"state": "unsubscribed", "opt_in_level": None, "consent_updated_at": None}
    assert deliver(api, store, "customers_marketing_consent/update", sms, "w3").json()["counts"]["created"] == 1
    assert sorted(rows(engine, "SELECT channel, state, opt_in_level FROM consent_event WHERE store_id = :s",
                       s=store.id)) == [("EMAIL", "SUBSCRIBED", "SINGLE_OPT_IN"), ("SMS", "UNSUBSCRIBED", "UNKNOWN")]
    # The SMS change had no time of its own: the delivery's X-Shopify-Triggered-At is used.
    with Session(engine) as session:
        sms_at = session.exec(select(ConsentEvent.occurred_at).where(
            ConsentEvent.store_id == store.id, ConsentEvent.channel == "SMS")).one()
    assert sms_at == SENT
    gone = deliver(api, store, "customers/delete", sample("shopify_webhook_customers_delete.json"), "w4").json()
    assert gone["counts"]["deleted"] == 1 and count(engine, "customer", store.id) == 0


def test_orders_create_and_a_forged_delivery(api, engine, store, shop):
    setup(engine, store, shop.url)
    order = fresh(sample("shopify_webhook_orders_create.json"))
    assert deliver(api, store, "orders/create", order, "o1", secret="forged").status_code == 401
    assert count(engine, "orders", store.id) == 0
    assert deliver(api, store, "orders/create", order, "o1").json()["counts"]["created"] == 1
    assert rows(engine, "SELECT external_id, status FROM orders WHERE store_id = :s", s=store.id) == [
        ("820982911946154508", "CANCELLED")]
    assert deliver(api, store, "orders/delete", {"id": 820982911946154508}, "o2").json()["counts"]["deleted"] == 1
