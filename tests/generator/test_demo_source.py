"""Generated rows have their own source, `demo`: a connector's records never match or overwrite them.

A WooCommerce shop whose order ids are the generated orders' numbers syncs into a generated store:
its orders are created next to the generated ones, which stay exactly as they were. A shop customer
with the e-mail of a generated customer is the same person (normal CRM matching by e-mail): the
connector's id is added to that customer, the generated ids and orders are left alone.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.generator import generate_store
from crm_graph.services.connectors import register_connector
from crm_graph.services.ingest import ingest_records
from crm_graph.services.sync import sync_connector
from crm_graph_woocommerce.fake_server import FakeWooCommerce, SyntheticOrders, sample
from tests.ingest_helpers import rows

ANCHOR = date(2026, 6, 15)
SOURCED = ("customer_identity", "product", "orders", "consent_event", "activity_event", "customer_tag")


def demo_rows(engine, store_id: int) -> dict[str, list]:
    """Every generated order (with its figures) and identity, as stored."""
    return {
        "orders": rows(engine, "SELECT id, source, external_id, customer_id, status, total, updated_at FROM orders "
                               "WHERE store_id = :s AND source = 'demo' ORDER BY id", s=store_id),
        "identities": rows(engine, "SELECT id, customer_id, source, external_id FROM customer_identity "
                                   "WHERE store_id = :s AND source = 'demo' ORDER BY id", s=store_id),
        "lines": rows(engine, "SELECT l.id, l.order_id, l.line_total FROM order_line l JOIN orders o ON o.id = l.order_id "
                              "WHERE o.store_id = :s AND o.source = 'demo' ORDER BY l.id", s=store_id),
    }


@pytest.fixture
def shop():
    fake = FakeWooCommerce()
    fake.url = fake.start()
    yield fake
    fake.stop()


def test_every_generated_row_has_the_demo_source(engine, make_store):
    store = make_store()
    generate_store(engine, store, customers=300, seed=5, anchor=ANCHOR)
    for table in SOURCED:
        sources = rows(engine, f"SELECT DISTINCT source FROM {table} WHERE store_id = :s", s=store.id)
        assert sources == [("demo",)], table


def test_a_sync_creates_its_orders_next_to_generated_ones_with_the_same_ids(engine, make_store, shop):
    store = make_store(timezone="Europe/Warsaw", currency="PLN")
    generate_store(engine, store, customers=500, seed=7, anchor=ANCHOR)
    numbers = [int(n) for (n,) in rows(engine, "SELECT external_id FROM orders WHERE store_id = :s", s=store.id)]
    assert min(numbers) == 1001 and max(numbers) > 1500
    before = demo_rows(engine, store.id)

    # Order ids 1..2000 overlap the generated order numbers; buyers 1..40 are the generated customer numbers too.
    shop.orders = SyntheticOrders(2000, customers=40)
    # A shop customer with the e-mail of a generated customer who has an account.
    email, demo_customer = rows(engine, "SELECT c.email, c.id FROM customer c JOIN customer_identity i "
                                        "ON i.customer_id = c.id WHERE c.store_id = :s AND c.email IS NOT NULL "
                                        "ORDER BY c.id LIMIT 1", s=store.id)[0]
    account = copy.deepcopy(sample("woocommerce_customer_retrieve.json"))
    account.update(id=7, email=email)
    account["billing"].update(email=email, phone="")  # the synthetic orders all carry the sample's phone
    shop.customers.put(account)
    with Session(engine, expire_on_commit=False) as session:
        config = register_connector(session, store, "woocommerce", {
            "url": shop.url, "consumer_key": "ck_test", "consumer_secret": "cs_test", "retry_backoff": 0.01})
        session.commit()

    summary = sync_connector(engine, store.id, config.id)

    # Every order is created; the one update is the shop's customer matched by e-mail (its profile).
    assert (summary.counts["created"], summary.counts["updated"], summary.counts["rejected"]) == (2000, 1, 0), \
        (summary.counts, summary.errors[:3])
    assert demo_rows(engine, store.id) == before
    assert rows(engine, "SELECT COUNT(*) FROM orders WHERE store_id = :s AND source = 'woocommerce' "
                        "AND external_id IN ('1001', '1500', '2000')", s=store.id) == [(3,)]
    # Matched by e-mail: the shop's id joins the generated customer; its generated ids stay.
    assert rows(engine, "SELECT customer_id FROM customer_identity WHERE store_id = :s AND source = 'woocommerce' "
                        "AND external_id = '7'", s=store.id) == [(demo_customer,)]
    # Buyers known to the shop by id 1..40 are new customers, not the generated customers numbered 1..40;
    # only buyer 7, the person matched by e-mail, has orders on a generated customer.
    generated = {c for (c,) in rows(engine, "SELECT customer_id FROM customer_identity WHERE store_id = :s "
                                            "AND source = 'demo'", s=store.id)}
    buyers = {c for (c,) in rows(engine, "SELECT DISTINCT customer_id FROM orders WHERE store_id = :s "
                                         "AND source = 'woocommerce'", s=store.id)}
    assert demo_customer in buyers and buyers & generated == {demo_customer}

    again = sync_connector(engine, store.id, config.id)
    assert again.counts["created"] == again.counts["updated"] == 0
    assert demo_rows(engine, store.id) == before


def test_no_connector_or_import_may_write_under_the_demo_source(engine, store):
    with Session(engine) as session, pytest.raises(UserError, match="reserved for generated data"):
        ingest_records(session, store, [], source="demo")

