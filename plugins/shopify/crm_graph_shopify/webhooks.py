"""Inbound Shopify webhooks: HMAC check, topics to records.

``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body with the app's client secret.
``X-Shopify-Webhook-Id`` identifies a delivery (Shopify may deliver twice; the core keeps the ids
it applied). Since API 2025-01 customer webhooks carry no consent: the consent topics
``customers_email_marketing_consent/update`` and ``customers_marketing_consent/update`` (SMS) do.

The headers (``X-Shopify-Topic``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Triggered-At``) are not
signed, so the body must agree with the topic (`check_topic`): a */delete body carries only the ids
(``id``, ``admin_graphql_api_id``, and for customers ``tax_exemptions``), any other topic's body has
keys of its resource. The resource's ``updated_at`` (signed) dates the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from crm_graph.connectors import DeletionRecord, WebhookEvent, WebhookMalformed, WebhookRejected
from crm_graph.connectors import normalise as n
from crm_graph.models.enums import Channel
from crm_graph.models.types import utcnow
from crm_graph_shopify import mapping
from crm_graph_shopify.settings import ShopifySettings

TOPICS = (
    "customers/create", "customers/update", "customers/delete", "customers_email_marketing_consent/update",
    "customers_marketing_consent/update", "orders/create", "orders/updated", "orders/paid", "orders/cancelled",
    "orders/fulfilled", "orders/delete", "products/create", "products/update", "products/delete",
)


#: All a */delete body carries.
DELETION_KEYS = frozenset({"id", "admin_graphql_api_id", "tax_exemptions"})

#: Keys the body of each family of topics has (by the topic's part before ``/``).
SHAPES = {
    "customers": frozenset({"created_at", "updated_at", "first_name", "last_name"}),
    "orders": frozenset({"line_items", "created_at", "updated_at"}),
    "products": frozenset({"variants", "title", "updated_at"}),
    "customers_email_marketing_consent": frozenset({"customer_id", "email_marketing_consent"}),
    "customers_marketing_consent": frozenset({"sms_marketing_consent"}),
}

#: Keys that only another family's body has: an order body is not a customer.
FOREIGN = {"customers": frozenset({"line_items", "variants"}), "products": frozenset({"line_items"})}


def signature(body: bytes, secret: str) -> str:
    """The HMAC Shopify sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(settings: ShopifySettings, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The verified event, or `WebhookRejected`."""
    if settings.app_secret is None:
        raise WebhookRejected("no app_secret is configured for this Shopify connector")
    headers = {key.lower(): value for key, value in headers.items()}
    sent = headers.get("x-shopify-hmac-sha256", "")
    expected = signature(body, settings.app_secret.get_secret_value())
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise WebhookRejected("X-Shopify-Hmac-Sha256 does not match the body")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookMalformed("the body is not JSON") from None
    topic = headers.get("x-shopify-topic", "")
    modified = check_topic(topic, payload)
    try:
        triggered = n.instant(headers.get("x-shopify-triggered-at"))
    except ValueError:
        raise WebhookMalformed("X-Shopify-Triggered-At is not a time") from None
    return WebhookEvent(topic=topic, delivery_id=headers.get("x-shopify-webhook-id"), payload=payload,
                        triggered_at=triggered, modified_at=modified)


def check_topic(topic: str, payload) -> datetime | None:
    """Refuse a body that is not what `topic` says; the resource's modification time from the body
    (None for a deletion, or when the body has none)."""
    family, _, action = topic.partition("/")
    if topic not in TOPICS:
        return None
    if not isinstance(payload, dict):
        raise WebhookMalformed(f"a {topic} body is a JSON object")
    if action == "delete":
        if "id" not in payload or not set(payload) <= DELETION_KEYS:
            raise WebhookMalformed(f"a {topic} body carries only the deleted ids; this one carries more")
        return None
    missing = SHAPES[family] - set(payload)
    foreign = FOREIGN.get(family, frozenset()) & set(payload)
    if missing or foreign or set(payload) <= DELETION_KEYS:
        raise WebhookMalformed(f"a {topic} body is not what the topic says (lacks {', '.join(sorted(missing)) or '-'}"
                               f"; has {', '.join(sorted(foreign)) or '-'})")
    if family == "customers_email_marketing_consent":
        stamp = (payload.get("email_marketing_consent") or {}).get("consent_updated_at")
    elif family == "customers_marketing_consent":
        stamp = (payload.get("sms_marketing_consent") or {}).get("consent_updated_at")
    else:
        stamp = payload.get("updated_at")
    try:
        return n.instant(stamp)
    except (ValueError, TypeError, AttributeError):
        raise WebhookMalformed(f"the time in the {topic} body is not a time") from None


def records(event: WebhookEvent) -> list:
    """The records of a verified event (none for topics crm-graph does not use)."""
    payload, topic = event.payload, event.topic
    if not isinstance(payload, dict):
        return []
    at = event.triggered_at or utcnow()
    if topic in ("customers/create", "customers/update"):
        return mapping.customer_rest(payload)
    if topic == "customers/delete":
        return [DeletionRecord(mapping.SOURCE, "customer", mapping.customer_id(payload))]
    if topic == "customers_email_marketing_consent/update":
        value = payload.get("email_marketing_consent") or {}
        record = mapping.consent(str(payload["customer_id"]), Channel.EMAIL, value.get("state"),
                                 value.get("opt_in_level"), value.get("consent_updated_at"), at)
        return [record] if record else []
    if topic == "customers_marketing_consent/update":
        value = payload.get("sms_marketing_consent") or {}
        record = mapping.consent(str(payload.get("customer_id") or payload["id"]), Channel.SMS, value.get("state"),
                                 value.get("opt_in_level"), value.get("consent_updated_at"), at)
        return [record] if record else []
    if topic.startswith("orders/"):
        if topic == "orders/delete":
            return [DeletionRecord(mapping.SOURCE, "order", mapping._id(payload.get("admin_graphql_api_id"))
                                   or str(payload["id"]))]
        return [mapping.order_rest(payload)]
    if topic in ("products/create", "products/update"):
        return [mapping.product_rest(payload)]
    if topic == "products/delete":
        return [DeletionRecord(mapping.SOURCE, "product", str(payload["id"]))]
    return []
