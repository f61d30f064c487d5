"""The WooCommerce connector end to end against the fake shop, on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from crm_graph.connectors.base import parse_cursor
from crm_graph.models import ConnectorConfig
from crm_graph.services.connectors import register_connector
from crm_graph.services.sync import sync_connector
from crm_graph_woocommerce.fake_server import FakeWooCommerce
from tests.factories import utc
from tests.ingest_helpers import STORE_TABLES, count, rows, snapshot

ROOT = Path(__file__).resolve().parents[3]
DATA_TABLES = tuple(t for t in STORE_TABLES if t != "sync_cursor")


@pytest.fixture
def shop():
    fake = FakeWooCommerce(timeout_seconds=0.6)
    fake.url = fake.start()
    yield fake
    fake.stop()


def connect(engine, store, shop, **extra) -> ConnectorConfig:
    with Session(engine, expire_on_commit=False) as session:
        row = register_connector(session, store, "woocommerce", {
            "url": shop.url, "consumer_key": "ck_test", "consumer_secret": "cs_test", "timeout": 0.3,
            "retry_backoff": 0.01, **extra})
        session.commit()
    return row


def test_the_samples_sync_once_and_a_second_sync_changes_nothing(engine, store, shop):
    shop.load_samples()
    shop.faults = [429, "timeout", 502]
    config = connect(engine, store, shop)
    summary = sync_connector(engine, store.id, config.id)
    assert summary.counts["rejected"] == 0 and summary.counts["created"] == 5  # 2 customers, 1 product, 2 orders
    # The guest order of john.doe@example.com belongs to the account with that email.
    assert rows(engine, "SELECT o.external_id, i.external_id FROM orders o JOIN customer_identity i "
                        "ON i.customer_id = o.customer_id AND i.external_id NOT LIKE 'guest:%' "
                        "WHERE o.store_id = :s ORDER BY 1", s=store.id) == [("723", "26"), ("727", "25")]
    assert count(engine, "refund", store.id) == 2
    before = snapshot(engine, store.id, tables=DATA_TABLES)
    again = sync_connector(engine, store.id, config.id)
    assert again.counts["created"] == again.counts["updated"] == 0
    assert snapshot(engine, store.id, tables=DATA_TABLES) == before


def test_updated_orders_are_updated_and_trashed_ones_removed(engine, store, shop):
    base = utc(2024, 1, 1)
    orders = [shop.add_order(email=f"b{i}@example.com", modified=base + timedelta(minutes=i)) for i in range(5)]
    config = connect(engine, store, shop)
    sync_connector(engine, store.id, config.id)
    shop.update_order(orders[1]["id"], total="99.00", status="completed")
    shop.trash_order(orders[2]["id"])
    summary = sync_connector(engine, store.id, config.id)
    assert (summary.counts["updated"], summary.counts["deleted"]) == (1, 1)
    assert rows(engine, "SELECT status FROM orders WHERE store_id = :s AND external_id = :e", s=store.id,
                e=str(orders[1]["id"])) == [("COMPLETED",)]
    assert count(engine, "orders", store.id) == 4


def test_the_consent_meta_key_setting(engine, store, shop):
    shop.load_samples()
    shop.customers.items[25]["meta_data"] = [{"id": 9, "key": "newsletter", "value": "1"}]
    config = connect(engine, store, shop, consent_meta_key="newsletter")
    sync_connector(engine, store.id, config.id)
    assert rows(engine, "SELECT channel, state FROM consent_event WHERE store_id = :s", s=store.id) == [
        ("EMAIL", "SUBSCRIBED")]


def test_a_sync_killed_mid_way_resumes_with_every_order_once(engine, db_url, store, shop):
    base = utc(2024, 1, 1)
    total = 350
    for i in range(total):
        shop.add_order(customer_id=0, email=f"b{i % 40}@example.com", modified=base + timedelta(minutes=i))
    config = connect(engine, store, shop)
    # Batches of 100 records (one page) in the child, so that some are committed before it is killed.
    script = ("import sys; from crm_graph.db import create_db_engine; from crm_graph.services import sync; "
              "sync.BATCH_RECORDS = 100; "
              "sync.sync_connector(create_db_engine(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")
    child = subprocess.Popen([sys.executable, "-c", script, db_url, str(store.id), str(config.id)],
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    order_pages = []

    def kill_on_the_third_page(path, params):
        # distinct pages: a page the client asks again (a retry on a loaded machine) is not the next one
        page = sorted(params.items())
        if path.endswith("/orders") and params.get("status") == "any" and page not in order_pages:
            order_pages.append(page)
            if len(order_pages) == 3:
                os.kill(child.pid, signal.SIGKILL)

    shop.before_request = kill_on_the_third_page
    assert child.wait(timeout=60) == -signal.SIGKILL
    shop.before_request = None
    committed = count(engine, "orders", store.id)
    assert 0 < committed < total
    cursor = rows(engine, "SELECT value FROM sync_cursor WHERE connector_id = :c AND stream = 'orders'", c=config.id)
    # The cursor is the modification time of the last committed order, never beyond it.
    newest = rows(engine, "SELECT MAX(updated_at) FROM orders WHERE store_id = :s", s=store.id)[0][0]
    assert cursor and parse_cursor(cursor[0][0]) <= (newest if not isinstance(newest, str) else parse_cursor(newest))

    summary = sync_connector(engine, store.id, config.id)
    assert count(engine, "orders", store.id) == total
    assert rows(engine, "SELECT COUNT(DISTINCT external_id) FROM orders WHERE store_id = :s", s=store.id) == [(total,)]
    assert count(engine, "customer", store.id) == 40 and count(engine, "order_line", store.id) == 2 * total
    assert summary.cursors["orders"] == summary.started_at.isoformat()
