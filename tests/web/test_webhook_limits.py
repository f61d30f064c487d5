"""Webhook endpoint against hostile deliveries: oversized, unsigned, forged, malformed, replayed.

Whatever is refused leaves no trace in the database (no delivery, no job, no row); the refusal is
logged. Signatures are compared in constant time (`hmac.compare_digest`) by every connector.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlmodel import Session

from crm_graph.services.connectors import register_connector
from crm_graph.web.webhooks import MAX_BODY
from crm_graph.models.types import utcnow
from crm_graph_woocommerce.fake_server import sample
from crm_graph_woocommerce.webhooks import signature
from tests.ingest_helpers import count

SECRET = "wh-secret"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hooked(engine, store):
    """`store` with a WooCommerce connector that has a webhook secret."""
    with Session(engine) as session:
        register_connector(session, store, "woocommerce", {
            "url": "https://shop.example.com", "consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": SECRET})
        session.commit()
    return store


def _post(api, store, body: bytes, *, sign_with: str | None = SECRET, delivery: str = "d1", topic="customer.created"):
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Delivery-ID": delivery, "Content-Type": "application/json"}
    if sign_with is not None:
        headers["X-WC-Webhook-Signature"] = signature(body, sign_with)
    return api.client.post(f"/webhooks/woocommerce/{store.slug}", content=body, headers=headers)


def _traces(engine, store) -> tuple[int, int, int]:
    return count(engine, "webhook_delivery", store.id), count(engine, "job", store.id), count(engine, "customer", store.id)


def test_refused_deliveries_leave_no_trace_and_are_logged(api, engine, hooked, caplog):
    caplog.set_level(logging.WARNING)
    customer = {"id": 5, "email": "x@example.com", "first_name": "X"}
    body = json.dumps(customer).encode()
    refusals = [
        (b"{" + b" " * (MAX_BODY + 1) + b"}", SECRET, 400),  # over the webhook body limit
        (body, None, 401),                              # unsigned
        (body, "wrong-secret", 401),                    # forged
        (b"{not json", SECRET, 400),                    # signed but malformed
        (b"\xff\xfe\x00binary", SECRET, 200),           # signed, not JSON at all: a ping-like no-op
    ]
    for payload, secret, status in refusals:
        response = _post(api, hooked, payload, sign_with=secret)
        assert response.status_code == status, (payload[:20], response.text)
        if status != 200:
            assert _traces(engine, hooked)[2] == 0
    assert _traces(engine, hooked)[0] == 0 and _traces(engine, hooked)[2] == 0
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "refused" in logged


def test_a_replayed_delivery_is_applied_once(api, engine, hooked):
    customer = dict(sample("woocommerce_customer_retrieve.json"), id=9, email="r@example.com",
                    date_modified_gmt=utcnow().strftime("%Y-%m-%dT%H:%M:%S"))
    body = json.dumps(customer).encode()
    first = _post(api, hooked, body, delivery="same")
    again = _post(api, hooked, body, delivery="same")
    assert first.status_code == again.status_code == 200
    assert count(engine, "job", hooked.id) == 1  # one job per delivery id, however often it comes


def test_every_connector_compares_signatures_in_constant_time():
    sources = list((ROOT / "plugins").glob("*/crm_graph_*/webhooks.py"))
    assert sources, "no connector webhook module found"
    for source in sources:
        text = source.read_text()
        assert "hmac.compare_digest" in text, source
        assert "== expected" not in text and "expected ==" not in text, source


def test_an_oversized_body_without_a_length_is_cut_off_at_the_limit(api, engine, hooked, caplog):
    caplog.set_level(logging.WARNING)

    def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    response = api.client.post(f"/webhooks/woocommerce/{hooked.slug}", content=chunks(),
                               headers={"X-WC-Webhook-Topic": "customer.created"})
    assert response.status_code == 400
    assert _traces(engine, hooked) == (0, 0, 0)
    assert "over" in " ".join(record.getMessage() for record in caplog.records)


def test_the_api_body_limit_still_answers_413_elsewhere(api):
    response = api.client.post("/graphql", content=b"{" + b" " * 1_200_000 + b"}",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
