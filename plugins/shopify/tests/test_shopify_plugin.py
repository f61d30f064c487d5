"""The Shopify connector end to end against the fake GraphQL shop, on SQLite and PostgreSQL."""

import pytest
from sqlmodel import Session, select

from crm_graph.models import ConsentEvent
from crm_graph.services.connectors import register_connector
from crm_graph.services.sync import sync_connector
from crm_graph_shopify.fake_server import FakeShopify
from tests.factories import utc
from tests.ingest_helpers import STORE_TABLES, count, rows, snapshot

DATA_TABLES = tuple(t for t in STORE_TABLES if t != "sync_cursor")


@pytest.fixture
def shop():
    fake = FakeShopify(timeout_seconds=0.6, bucket=30, restore_rate=500).load_samples()
    fake.url = fake.start()
    yield fake
    fake.stop()


def connect(engine, store, shop):
    with Session(engine, expire_on_commit=False) as session:
        row = register_connector(session, store, "shopify", {
            "shop_url": shop.url, "access_token": "shpat_test", "timeout": 0.3, "retry_backoff": 0.01, "page_size": 2})
        session.commit()
    return row


def test_sync_twice_with_throttling_and_faults(engine, store, shop):
    shop.faults = [429, 500]
    config = connect(engine, store, shop)
    summary = sync_connector(engine, store.id, config.id)
    assert summary.counts["rejected"] == 0
    assert count(engine, "customer", store.id) == 2 and count(engine, "orders", store.id) == 1
    # The queries cost more than the tiny bucket holds: the client paced itself (see test_shopify_client).
    assert sum(2 + 2 * 6 for path, v in shop.log if "status:any" in (v.get("query") or "")) + len(shop.log) * 4 > 30
    with Session(engine) as session:
        events = session.exec(select(ConsentEvent.channel, ConsentEvent.state, ConsentEvent.occurred_at).where(
            ConsentEvent.store_id == store.id).order_by(ConsentEvent.occurred_at)).all()
    # Bob: email NOT_SUBSCRIBED (2004), then SUBSCRIBED (2023-12-30 from the newer sample); SMS not subscribed.
    assert ("EMAIL", "SUBSCRIBED", utc(2023, 12, 30, 14, 13, 25)) in [tuple(e) for e in events]
    assert rows(engine, "SELECT total_spent FROM customer c JOIN customer_identity i ON i.customer_id = c.id "
                        "WHERE i.external_id = '207119551' AND c.store_id = :s", s=store.id)[0][0] is not None
    before = snapshot(engine, store.id, tables=DATA_TABLES)
    again = sync_connector(engine, store.id, config.id)
    assert again.counts["created"] == again.counts["updated"] == 0
    assert snapshot(engine, store.id, tables=DATA_TABLES) == before


def test_an_order_changed_on_the_platform_is_updated(engine, store, shop):
    config = connect(engine, store, shop)
    sync_connector(engine, store.id, config.id)
    gid = next(iter(shop.orders))
    shop.touch("orders", gid, displayFinancialStatus="REFUNDED", cancelledAt=None)
    summary = sync_connector(engine, store.id, config.id)
    assert summary.counts["updated"] == 1
    assert rows(engine, "SELECT status, raw_status FROM orders WHERE store_id = :s", s=store.id) == [
        ("REFUNDED", "REFUNDED")]


def test_sync_progress_has_each_streams_total_from_the_count_queries(engine, store, shop):
    """customersCount / productsCount / ordersCount give each stream's total before its pages."""
    config = connect(engine, store, shop)
    calls = []
    sync_connector(engine, store.id, config.id, progress=lambda done, total: calls.append((done, total)))
    assert len([v for _, v in shop.log if "first" not in v and "query" in v]) == 3  # one count per stream
    assert calls and all(total is not None and done <= total for done, total in calls), calls
    assert calls[-1][0] == calls[-1][1] == len(shop.customers) + len(shop.products) + len(shop.orders)


def test_a_refused_count_leaves_the_stream_without_a_total(engine, store, shop):
    """A shop that refuses the count query (an older API version, a missing scope) still syncs."""
    shop.faults = [400]  # the first request: the customers' count
    config = connect(engine, store, shop)
    calls = []
    summary = sync_connector(engine, store.id, config.id, progress=lambda done, total: calls.append((done, total)))
    assert summary.counts["rejected"] == 0 and count(engine, "customer", store.id) == 2
    customers = [total for done, total in calls if done <= len(shop.customers)]
    assert customers and all(total is None for total in customers)
    assert calls[-1][1] is not None  # the later streams' counts were answered
