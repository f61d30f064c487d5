"""Inbound WooCommerce webhooks: signature check and topic to records.

WooCommerce signs the raw body: ``X-WC-Webhook-Signature`` is the base64 HMAC-SHA256 of the body
with the webhook's secret. Bodies of order.*, customer.* and product.* topics have the REST shape;
*.deleted bodies carry only the id. The first delivery after a webhook is created is a ping
(``webhook_id=...``, form-encoded), accepted and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from crm_graph.connectors import DeletionRecord, WebhookEvent, WebhookMalformed, WebhookRejected
from crm_graph_woocommerce import mapping
from crm_graph_woocommerce.settings import WooCommerceSettings


def signature(body: bytes, secret: str) -> str:
    """The signature WooCommerce sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(settings: WooCommerceSettings, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The verified event, or `WebhookRejected` (no secret configured, missing or wrong signature)."""
    if settings.webhook_secret is None:
        raise WebhookRejected("no webhook_secret is configured for this WooCommerce connector")
    headers = {key.lower(): value for key, value in headers.items()}
    sent = headers.get("x-wc-webhook-signature", "")
    expected = signature(body, settings.webhook_secret.get_secret_value())
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise WebhookRejected("X-WC-Webhook-Signature does not match the body")
    topic = headers.get("x-wc-webhook-topic", "")
    try:
        payload = json.loads(body) if body.strip().startswith((b"{", b"[")) else None
    except ValueError:
        raise WebhookMalformed("the body is not JSON") from None
    return WebhookEvent(topic=topic, delivery_id=headers.get("x-wc-webhook-delivery-id"), payload=payload)


def records(settings: WooCommerceSettings, event: WebhookEvent) -> list:
    """The records a verified event carries (none for a ping or a topic crm-graph does not use)."""
    if event.payload is None or not isinstance(event.payload, dict):
        return []
    resource, _, action = event.topic.partition(".")
    payload = event.payload
    if action == "deleted" and resource in ("order", "customer", "product"):
        return [DeletionRecord(source=mapping.SOURCE, entity=resource, external_id=str(payload["id"]))]
    if resource == "order":
        if payload.get("status") == "trash":
            return [DeletionRecord(source=mapping.SOURCE, entity="order", external_id=str(payload["id"]))]
        return [mapping.order(payload, None, settings.status_map)]
    if resource == "customer":
        return mapping.customer(payload, settings.consent_meta_key)
    if resource == "product":
        return [mapping.product(payload)]
    return []
