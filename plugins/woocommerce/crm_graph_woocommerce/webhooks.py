"""Inbound WooCommerce webhooks: signature check, topic checked against the body, topic to records.

WooCommerce signs the raw body: ``X-WC-Webhook-Signature`` is the base64 HMAC-SHA256 of the body
with the webhook's secret. The topic (``X-WC-Webhook-Topic``) and the delivery id
(``X-WC-Webhook-Delivery-ID``) are not signed, so the body must agree with the topic: bodies of
order.*, customer.* and product.* topics have the REST shape (each with keys the other resources
lack), *.deleted bodies carry only the id. A body that is not what its topic says is refused
(`WebhookMalformed`): a genuine ``customer.created`` resent as ``customer.deleted`` deletes nothing.
The resource's ``date_modified_gmt`` (signed) dates the delivery. The first delivery after a webhook
is created is a ping (``webhook_id=...``, form-encoded), accepted and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from crm_graph.connectors import DeletionRecord, WebhookEvent, WebhookMalformed, WebhookRejected
from crm_graph.connectors.normalise import instant
from crm_graph_woocommerce import mapping
from crm_graph_woocommerce.settings import WooCommerceSettings

#: Keys only the REST shape of each resource has: a body of another resource (or a deletion's
#: ``{"id": N}``) under this resource's topic lacks some of them.
SHAPES = {
    "order": frozenset({"line_items", "order_key"}),
    "customer": frozenset({"email", "username"}),
    "product": frozenset({"sku", "price"}),
}


def signature(body: bytes, secret: str) -> str:
    """The signature WooCommerce sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(settings: WooCommerceSettings, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The verified event, or `WebhookRejected` (no secret configured, missing or wrong signature)
    or `WebhookMalformed` (not JSON, or a body that is not what the topic says)."""
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
    modified = check_topic(topic, payload)
    return WebhookEvent(topic=topic, delivery_id=headers.get("x-wc-webhook-delivery-id"), payload=payload,
                        modified_at=modified)


def check_topic(topic: str, payload) -> datetime | None:
    """Refuse a body that is not what `topic` says; the resource's modification time (None for a
    deletion, a ping, or a topic crm-graph does not use)."""
    resource, _, action = topic.partition(".")
    if resource not in SHAPES or payload is None:
        return None
    if not isinstance(payload, dict) or "id" not in payload:
        raise WebhookMalformed(f"a {topic} body is a {resource} with its id")
    if action == "deleted":
        if set(payload) != {"id"} or not str(payload["id"]).isdigit():
            raise WebhookMalformed(f"a {topic} body carries only the deleted id; this one carries more")
        return None
    missing = SHAPES[resource] - set(payload)
    if missing:
        raise WebhookMalformed(f"a {topic} body is a whole {resource}; this one lacks {', '.join(sorted(missing))}")
    try:
        return instant(payload.get("date_modified_gmt"))  # not the creation time: an old record may change now
    except (ValueError, TypeError, AttributeError):
        raise WebhookMalformed(f"the {resource}'s date_modified_gmt is not a time") from None


def records(settings: WooCommerceSettings, event: WebhookEvent) -> list:
    """The records a verified event carries (none for a ping or a topic crm-graph does not use)."""
    if event.payload is None or not isinstance(event.payload, dict):
        return []
    resource, _, action = event.topic.partition(".")
    payload = event.payload
    if action == "deleted" and resource in SHAPES:
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
