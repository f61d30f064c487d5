"""Every WooCommerce vendor sample parses into records with the right customer, money, UTC dates, consent."""

from decimal import Decimal

import pytest

from crm_graph.connectors import ConsentRecord, CustomerRecord
from crm_graph.models.enums import ConsentState, OrderStatus
from crm_graph_woocommerce import mapping
from crm_graph_woocommerce.fake_server import sample
from tests.factories import utc


def test_customer_list_and_retrieve():
    records = [r for item in sample("woocommerce_customers_list.json") for r in mapping.customer(item)]
    assert [(r.external_id, r.email, r.first_name, r.country, r.phone) for r in records] == [
        ("26", "joao.silva@example.com", "João", "BR", "+555555555555"),
        ("25", "john.doe@example.com", "John", "US", "+15555555555")]
    (single,) = mapping.customer(sample("woocommerce_customer_retrieve.json"))
    # date_created 2017-03-21T16:09:28 is shop-local; the _gmt field is the instant.
    assert single.created_at == utc(2017, 3, 21, 19, 9, 28) and single.city == "San Francisco"


def test_consent_comes_from_the_configured_meta_key():
    item = dict(sample("woocommerce_customer_retrieve.json"), meta_data=[{"id": 1, "key": "_newsletter", "value": "yes"}])
    customer, consent = mapping.customer(item, "_newsletter")
    assert isinstance(customer, CustomerRecord) and isinstance(consent, ConsentRecord)
    # WooCommerce keeps no consent time: the customer's last modification (date_modified_gmt) stands in.
    assert consent.state == ConsentState.SUBSCRIBED and consent.occurred_at == utc(2017, 3, 21, 19, 9, 30)
    item["meta_data"][0]["value"] = "no"
    assert mapping.customer(item, "_newsletter")[1].state == ConsentState.UNSUBSCRIBED
    assert len(mapping.customer(item, None)) == 1 and len(mapping.customer(item, "_other")) == 1


def test_orders_list_guest_and_account():
    guest, account = (mapping.order(item, [], {}) for item in sample("woocommerce_orders_list.json"))
    assert guest.customer.external_id is None and guest.customer.email == "john.doe@example.com"
    assert guest.customer.phone == "+15555555555"
    assert (guest.status, guest.raw_status, guest.total, guest.subtotal, guest.shipping, guest.tax) == (
        OrderStatus.PAID, "processing", Decimal("29.35"), Decimal("18.00"), Decimal("10.00"), Decimal("1.35"))
    assert guest.placed_at == utc(2017, 3, 22, 19, 28, 2) and guest.updated_at == utc(2017, 3, 22, 19, 28, 8)
    assert [(l.external_id, l.product_external_id, l.quantity, l.unit_price, l.line_total) for l in guest.lines] == [
        ("315", "93", 2, Decimal("3.00"), Decimal("6.00")), ("316", "23", 1, Decimal("12.00"), Decimal("12.00"))]
    assert account.customer.external_id == "26" and account.status == OrderStatus.COMPLETED


def test_order_retrieve_and_its_refunds():
    refunds = sample("woocommerce_order_refunds_list.json")
    order = mapping.order(sample("woocommerce_order_retrieve.json"), refunds, {})
    assert order.currency == "USD" and order.total == Decimal("29.35")
    assert [(r.external_id, r.amount, r.refunded_at) for r in order.refunds] == [
        ("726", Decimal("10.00"), utc(2017, 3, 21, 20, 7, 11)), ("724", Decimal("9.00"), utc(2017, 3, 21, 19, 55, 37))]


def test_product():
    product = mapping.product(sample("woocommerce_product_retrieve.json"))
    assert (product.external_id, product.name, product.sku, product.category) == (
        "794", "Premium Quality", None, "Clothing")


def test_statuses_custom_and_unknown():
    item = dict(sample("woocommerce_order_retrieve.json"), status="shipped")
    with pytest.raises(ValueError, match="status_map"):
        mapping.order(item, [], {})
    assert mapping.order(item, [], {"shipped": "completed"}).status == OrderStatus.COMPLETED
