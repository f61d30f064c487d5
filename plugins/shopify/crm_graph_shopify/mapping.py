"""Shopify payloads to crm-graph records: GraphQL nodes (sync) and REST-shaped bodies (webhooks).

Ids are kept as text: the numeric tail of a GID (``gid://shopify/Customer/207119551``), never a
float. Consent maps Shopify's states and opt-in levels one to one; its `consent_updated_at` is the
event's `occurred_at` (the customer's creation time when Shopify has none).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from crm_graph.connectors import (
    ConsentRecord, CustomerRecord, CustomerRef, OrderLineRecord, OrderRecord, ProductRecord, RefundRecord,
)
from crm_graph.connectors import normalise as n
from crm_graph.models.enums import Channel, ConsentState, OptInLevel, OrderStatus

SOURCE = "shopify"


def _id(value) -> str | None:
    return n.gid_tail(value)


def customer_id(payload: dict) -> str:
    """A customer's id: the GID's tail when present (exact), else the numeric id as text."""
    return _id(payload.get("admin_graphql_api_id")) or str(payload["id"])


def consent(customer: str, channel: Channel, state: str | None, level: str | None, updated_at: str | None,
            fallback: datetime | None) -> ConsentRecord | None:
    """A consent record from Shopify's state / opt-in level / updated-at (any case); None without a state."""
    if not state:
        return None
    try:
        consent_state = ConsentState(state.upper())
    except ValueError:
        raise ValueError(f"{channel} consent state {state!r} is not a Shopify marketing state") from None
    try:
        opt_in = OptInLevel(level.upper()) if level else OptInLevel.UNKNOWN
    except ValueError:
        opt_in = OptInLevel.UNKNOWN
    occurred = n.instant(updated_at) or fallback
    if occurred is None:
        return None
    return ConsentRecord(source=SOURCE, customer=CustomerRef(external_id=customer), channel=channel,
                         state=consent_state, opt_in_level=opt_in, occurred_at=occurred)


def _tags(value) -> list[str]:
    if isinstance(value, list):
        return [tag.strip()[:200] for tag in value if tag and tag.strip()]
    return [tag.strip()[:200] for tag in (value or "").split(",") if tag.strip()]


def customer_node(node: dict) -> list:
    """A GraphQL Customer with its email and SMS marketing consent."""
    external = _id(node["id"])
    address = node.get("defaultAddress") or {}
    country = n.country(address.get("countryCodeV2"))
    created = n.instant(node.get("createdAt"))
    records: list = [CustomerRecord(
        source=SOURCE, external_id=external, email=n.email(node.get("email")), phone=n.phone(node.get("phone"), country),
        first_name=n.text(node.get("firstName"), 200), last_name=n.text(node.get("lastName"), 200),
        country=country, city=n.text(address.get("city"), 200), created_at=created,
        updated_at=n.instant(node.get("updatedAt")), tags=_tags(node.get("tags")),
    )]
    for field, channel in (("emailMarketingConsent", Channel.EMAIL), ("smsMarketingConsent", Channel.SMS)):
        value = node.get(field) or {}
        record = consent(external, channel, value.get("marketingState"), value.get("marketingOptInLevel"),
                         value.get("consentUpdatedAt"), created)
        if record:
            records.append(record)
    return records


def customer_rest(payload: dict) -> list:
    """A REST / webhook customer; consent fields only exist before API 2025-01."""
    external = customer_id(payload)
    address = payload.get("default_address") or {}
    country = n.country(address.get("country_code"))
    created = n.instant(payload.get("created_at"))
    records: list = [CustomerRecord(
        source=SOURCE, external_id=external, email=n.email(payload.get("email")),
        phone=n.phone(payload.get("phone"), country), first_name=n.text(payload.get("first_name"), 200),
        last_name=n.text(payload.get("last_name"), 200), country=country, city=n.text(address.get("city"), 200),
        created_at=created, updated_at=n.instant(payload.get("updated_at")), tags=_tags(payload.get("tags")),
    )]
    for field, channel in (("email_marketing_consent", Channel.EMAIL), ("sms_marketing_consent", Channel.SMS)):
        value = payload.get(field) or {}
        record = consent(external, channel, value.get("state"), value.get("opt_in_level"),
                         value.get("consent_updated_at"), created)
        if record:
            records.append(record)
    return records


def _status(financial: str | None, fulfillment: str | None, cancelled: bool) -> OrderStatus:
    financial = (financial or "").upper()
    if cancelled or financial == "VOIDED":
        return OrderStatus.CANCELLED
    if financial in ("REFUNDED", "PARTIALLY_REFUNDED"):
        return OrderStatus.REFUNDED
    if financial in ("PAID", "PARTIALLY_PAID"):
        return OrderStatus.COMPLETED if (fulfillment or "").upper() == "FULFILLED" else OrderStatus.PAID
    if financial == "EXPIRED":
        return OrderStatus.FAILED
    return OrderStatus.PENDING


def _money(money_set: dict | None) -> Decimal:
    return n.money(((money_set or {}).get("shopMoney") or {}).get("amount"))


def order_node(node: dict) -> OrderRecord:
    """A GraphQL Order with lines and refunds."""
    buyer = node.get("customer") or {}
    address = node.get("billingAddress") or {}
    country = n.country(address.get("countryCodeV2"))
    email = n.email(node.get("email") or buyer.get("email"))
    phone = n.phone(node.get("phone") or buyer.get("phone") or address.get("phone"), country)
    lines = []
    for item in (node.get("lineItems") or {}).get("nodes") or ():
        product = (item.get("variant") or {}).get("id") or (item.get("product") or {}).get("id")
        lines.append(OrderLineRecord(
            external_id=_id(item["id"]), name=n.text(item.get("name"), 500), product_external_id=_id(product),
            sku=n.text(item.get("sku"), 200), quantity=int(item.get("quantity") or 0),
            unit_price=_money(item.get("originalUnitPriceSet")), line_total=_money(item.get("discountedTotalSet"))))
    journey = ((node.get("customerJourneySummary") or {}).get("firstVisit") or {})
    utm = journey.get("utmParameters") or {}
    channel = f"{utm['source']} / {utm.get('medium')}" if utm.get("source") else journey.get("source")
    return OrderRecord(
        source=SOURCE, external_id=_id(node["id"]),
        customer=CustomerRef(external_id=_id(buyer.get("id")), email=email, phone=phone),
        status=_status(node.get("displayFinancialStatus"), node.get("displayFulfillmentStatus"),
                       bool(node.get("cancelledAt"))),
        raw_status=(node.get("displayFinancialStatus") or "")[:64] or None,
        placed_at=n.instant(node.get("processedAt") or node.get("createdAt")), updated_at=n.instant(node.get("updatedAt")),
        currency=(((node.get("totalPriceSet") or {}).get("shopMoney") or {}).get("currencyCode")
                  or node.get("currencyCode") or "")[:3],
        total=_money(node.get("totalPriceSet")), subtotal=_money(node.get("subtotalPriceSet")),
        discount=_money(node.get("totalDiscountsSet")), shipping=_money(node.get("totalShippingPriceSet")),
        tax=_money(node.get("totalTaxSet")), channel=n.text(channel, 200),
        first_name=n.text(address.get("firstName") or buyer.get("firstName"), 200),
        last_name=n.text(address.get("lastName") or buyer.get("lastName"), 200),
        country=country, city=n.text(address.get("city"), 200), lines=lines,
        refunds=[RefundRecord(external_id=_id(refund["id"]), amount=_money(refund.get("totalRefundedSet")),
                              refunded_at=n.instant(refund.get("createdAt")), reason=n.text(refund.get("note"), 500))
                 for refund in node.get("refunds") or ()],
    )


def _rest_refund_amount(refund: dict) -> Decimal:
    total = Decimal("0.00")
    for transaction in refund.get("transactions") or ():
        if transaction.get("kind") == "refund" and transaction.get("status") in (None, "success"):
            total += n.money(transaction.get("amount"))
    return total


def order_rest(payload: dict) -> OrderRecord:
    """A REST / webhook order (orders/create, orders/updated...)."""
    buyer = payload.get("customer") or {}
    address = payload.get("billing_address") or {}
    country = n.country(address.get("country_code"))
    lines = []
    for item in payload.get("line_items") or ():
        quantity = int(item.get("quantity") or 0)
        price = n.money(item.get("price"))
        product = item.get("variant_id") or item.get("product_id")
        lines.append(OrderLineRecord(
            external_id=_id(item.get("admin_graphql_api_id")) or str(item["id"]), name=n.text(item.get("name"), 500),
            product_external_id=str(product) if product else None, sku=n.text(item.get("sku"), 200),
            quantity=quantity, unit_price=price, line_total=price * quantity - n.money(item.get("total_discount"))))
    shipping = ((payload.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    return OrderRecord(
        source=SOURCE, external_id=_id(payload.get("admin_graphql_api_id")) or str(payload["id"]),
        customer=CustomerRef(external_id=customer_id(buyer) if buyer.get("id") else None,
                             email=n.email(payload.get("email") or payload.get("contact_email") or buyer.get("email")),
                             phone=n.phone(payload.get("phone") or buyer.get("phone"), country)),
        status=_status(payload.get("financial_status"), payload.get("fulfillment_status"),
                       bool(payload.get("cancelled_at"))),
        raw_status=(payload.get("financial_status") or "")[:64] or None,
        placed_at=n.instant(payload.get("processed_at") or payload.get("created_at")),
        updated_at=n.instant(payload.get("updated_at")), currency=(payload.get("currency") or "")[:3],
        total=n.money(payload.get("total_price")), subtotal=n.money(payload.get("subtotal_price")),
        discount=n.money(payload.get("total_discounts")), shipping=n.money(shipping),
        tax=n.money(payload.get("total_tax")),
        first_name=n.text(address.get("first_name") or buyer.get("first_name"), 200),
        last_name=n.text(address.get("last_name") or buyer.get("last_name"), 200),
        country=country, city=n.text(address.get("city"), 200), lines=lines,
        refunds=[RefundRecord(external_id=str(refund["id"]), amount=_rest_refund_amount(refund),
                              refunded_at=n.instant(refund.get("processed_at") or refund.get("created_at")),
                              reason=n.text(refund.get("note"), 500))
                 for refund in payload.get("refunds") or ()],
    )


def product_node(node: dict) -> ProductRecord:
    """A GraphQL Product (the first variant's SKU)."""
    variants = (node.get("variants") or {}).get("nodes") or []
    return ProductRecord(source=SOURCE, external_id=_id(node["id"]), name=node.get("title") or _id(node["id"]),
                         sku=n.text(variants[0].get("sku"), 200) if variants else None,
                         category=n.text(node.get("productType"), 200))


def product_rest(payload: dict) -> ProductRecord:
    """A REST / webhook product."""
    variants = payload.get("variants") or []
    return ProductRecord(source=SOURCE, external_id=_id(payload.get("admin_graphql_api_id")) or str(payload["id"]),
                         name=payload.get("title") or str(payload["id"]),
                         sku=n.text(variants[0].get("sku"), 200) if variants else None,
                         category=n.text(payload.get("product_type"), 200))
