"""Inbound Shopify webhooks: HMAC check, topics to records.

``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body with the app's client secret.
``X-Shopify-Webhook-Id`` identifies a delivery (Shopify may deliver twice; the core keeps the ids
it applied). Since API 2025-01 customer webhooks carry no consent: the consent topics
``customers_email_marketing_consent/update`` and ``customers_marketing_consent/update`` (SMS) do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

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
    return WebhookEvent(topic=headers.get("x-shopify-topic", ""), delivery_id=headers.get("x-shopify-webhook-id"),
                        payload=payload, triggered_at=n.instant(headers.get("x-shopify-triggered-at")))


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
