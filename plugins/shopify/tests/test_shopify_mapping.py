"""Every Shopify vendor sample parses into records with the right customer, money, UTC dates and consent."""

from decimal import Decimal

from crm_graph.connectors import ConsentRecord, CustomerRecord
from crm_graph.models.enums import Channel, ConsentState, OptInLevel, OrderStatus
from crm_graph_shopify import mapping
from crm_graph_shopify.fake_server import customer_node, order_node, sample
from tests.factories import utc


def consents(records):
    return {r.channel: (r.state, r.opt_in_level, r.occurred_at) for r in records if isinstance(r, ConsentRecord)}


def test_rest_customer_with_email_subscribed():
    records = mapping.customer_rest(sample("shopify_customer_email_subscribed.json")["customer"])
    customer = records[0]
    assert isinstance(customer, CustomerRecord)
    assert (customer.external_id, customer.email, customer.phone, customer.country, customer.city) == (
        "207119551", "bob.norman@mail.example.com", "+16136120707", "US", "Louisville")
    assert customer.tags == ["Léon", "Noël"] and customer.created_at == utc(2024, 4, 2, 14, 13, 11)
    assert consents(records) == {
        Channel.EMAIL: (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED_OPT_IN, utc(2023, 12, 30, 14, 13, 25)),
        Channel.SMS: (ConsentState.NOT_SUBSCRIBED, OptInLevel.SINGLE_OPT_IN, utc(2024, 4, 2, 14, 13, 11))}


def test_rest_customer_lists():
    listed = [r for c in sample("shopify_customers_list.json")["customers"] for r in mapping.customer_rest(c)]
    assert listed[0].external_id == "207119551"
    by_ids = [r.external_id for c in sample("shopify_customers_by_ids.json")["customers"]
              for r in mapping.customer_rest(c) if isinstance(r, CustomerRecord)]
    assert sorted(by_ids) == ["1073339482", "207119551"]


def test_graphql_customer_nodes_map_the_same_way():
    rest = sample("shopify_customer_email_subscribed.json")["customer"]
    assert consents(mapping.customer_node(customer_node(rest))) == consents(mapping.customer_rest(rest))


def test_rest_order_with_refund():
    order = mapping.order_rest(sample("shopify_order_retrieve.json")["order"])
    assert (order.external_id, order.status, order.raw_status, order.currency) == (
        "450789469", OrderStatus.REFUNDED, "partially_refunded", "USD")
    assert (order.total, order.subtotal, order.discount, order.tax) == (
        Decimal("598.94"), Decimal("597.00"), Decimal("10.00"), Decimal("11.94"))
    assert order.placed_at == utc(2008, 1, 10, 16) and order.customer.external_id == "207119551"
    assert [(r.external_id, r.amount, r.refunded_at) for r in order.refunds] == [
        ("509562969", Decimal("209.00"), utc(2024, 4, 2, 13, 59, 11))]
    assert [(l.quantity, l.unit_price) for l in order.lines] == [(1, Decimal("199.00"))] * 3


def test_graphql_order_nodes_map_the_same_way():
    rest = sample("shopify_order_retrieve.json")["order"]
    rest_order, node_order = mapping.order_rest(rest), mapping.order_node(order_node(rest))
    for field in ("external_id", "status", "total", "subtotal", "discount", "tax", "placed_at", "currency"):
        assert getattr(node_order, field) == getattr(rest_order, field), field
    assert [(r.amount, r.refunded_at) for r in node_order.refunds] == [(r.amount, r.refunded_at) for r in rest_order.refunds]
    listed = mapping.order_rest(sample("shopify_orders_list.json")["orders"][0])
    assert listed.external_id == "450789469"


def test_webhook_orders_create_keeps_the_exact_ids():
    order = mapping.order_rest(sample("shopify_webhook_orders_create.json"))
    # The scraped body rounded the numeric ids to float precision; the GIDs keep the true ones.
    assert order.external_id == "820982911946154508" and order.customer.external_id == "115310627314723954"
    assert order.status == OrderStatus.CANCELLED and order.total == Decimal("404.95")
    assert order.placed_at == utc(2022, 1, 1)


def test_webhook_customers_and_consent_topics():
    created = mapping.customer_rest(sample("shopify_webhook_customers_create.json"))
    assert created[0].external_id == "706405506930370084"
    updated = mapping.customer_rest(sample("shopify_webhook_customers_update.json"))
    assert not consents(updated)  # no consent in customer webhooks since API 2025-01
    old = mapping.customer_rest(sample("shopify_webhook_customers_update_2024-10.json"))
    # not_subscribed without a consent time: the customer's creation is the time.
    assert consents(old) == {Channel.EMAIL: (ConsentState.NOT_SUBSCRIBED, OptInLevel.UNKNOWN, utc(2022, 1, 1))}


def test_consent_webhook_samples_as_delivered():
    from crm_graph.connectors import WebhookEvent
    from crm_graph_shopify.webhooks import records

    at = utc(2026, 5, 1, 10)
    email = records(WebhookEvent("customers_email_marketing_consent/update", "w1",
                                 sample("shopify_webhook_customers_email_marketing_consent_update.json"), at))
    # not_subscribed with no consent time: the delivery's time; the customer id is kept as the integer's text.
    assert [(r.customer.external_id, r.channel, r.state, r.opt_in_level, r.occurred_at) for r in email] == [
        ("706405506930370000", Channel.EMAIL, ConsentState.NOT_SUBSCRIBED, OptInLevel.UNKNOWN, at)]
    sms = records(WebhookEvent("customers_marketing_consent/update", "w2",
                               sample("shopify_webhook_customers_marketing_consent_update.json"), at))
    assert sms == []  # the sample's SMS state is null: nothing is known, nothing is recorded
    (deletion,) = records(WebhookEvent("customers/delete", "w3", sample("shopify_webhook_customers_delete.json"), at))
    assert (deletion.entity, deletion.external_id) == ("customer", "706405506930370084")
