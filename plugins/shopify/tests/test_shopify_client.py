"""The GraphQL client against the fake shop: pages, cost-based throttling, 429 and server errors."""

import time

import pytest

from crm_graph.connectors.http import PlatformError
from crm_graph_shopify import queries
from crm_graph_shopify.client import ShopifyClient
from crm_graph_shopify.fake_server import FakeShopify
from crm_graph_shopify.settings import ShopifySettings
from tests.factories import utc


@pytest.fixture
def shop():
    fake = FakeShopify(timeout_seconds=0.6)
    fake.url = fake.start()
    yield fake
    fake.stop()


def make_client(shop, sleeps=None, **settings):
    values = {"shop_url": shop.url, "access_token": "shpat_test", "timeout": 0.3, "retry_backoff": 0.01,
              "page_size": 2, **settings}
    return ShopifyClient(ShopifySettings(**values), sleep=(sleeps.append if sleeps is not None else None))


def add_customers(shop, n):
    for i in range(n):
        shop.put_customer({"id": 1000 + i, "email": f"c{i}@example.com", "created_at": "2024-01-01T00:00:00Z",
                           "updated_at": f"2024-01-01T00:{i:02d}:00Z"})


def test_cursor_pagination_reads_every_node_once_in_update_order(shop):
    add_customers(shop, 5)
    pages = list(make_client(shop).updated_pages("customers", queries.CUSTOMERS, None, utc(2025, 1, 1)))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [n["email"] for p in pages for n in p] == [f"c{i}@example.com" for i in range(5)]
    assert "updated_at:<'2025-01-01T00:00:00Z'" in shop.log[0][1]["query"]


def test_the_window_filters_on_updated_at(shop):
    add_customers(shop, 5)
    nodes = [n for p in make_client(shop).updated_pages("customers", queries.CUSTOMERS, utc(2024, 1, 1, 0, 2),
                                                         utc(2024, 1, 1, 0, 4)) for n in p]
    assert [n["email"] for n in nodes] == ["c2@example.com", "c3@example.com"]


def test_throttled_queries_wait_for_the_bucket_and_retry(shop):
    add_customers(shop, 6)
    shop.maximum = shop.available = 5.0  # a page of 2 customers costs 4: the second query is throttled
    shop.restore_rate = 1000.0
    sleeps = []
    client = make_client(shop, sleeps)
    nodes = [n for p in client.updated_pages("customers", queries.CUSTOMERS, None, utc(2025, 1, 1)) for n in p]
    assert len(nodes) == 6
    assert sleeps and all(s > 0 for s in sleeps)


def test_a_real_throttle_answer_is_retried(shop):
    add_customers(shop, 2)
    client = make_client(shop)  # really waits: 4 points at 20 per second
    shop.maximum, shop.available, shop.restore_rate = 100.0, 0.0, 20.0
    shop._refilled = time.monotonic()
    nodes = [n for p in client.updated_pages("customers", queries.CUSTOMERS, None, utc(2025, 1, 1)) for n in p]
    assert len(nodes) == 2 and client.throttled == 1 and shop.throttled == 1


def test_429_and_5xx_are_retried_and_bad_tokens_are_not(shop):
    add_customers(shop, 1)
    shop.faults = [429, 500, "timeout"]
    client = make_client(shop)
    assert len([n for p in client.updated_pages("customers", queries.CUSTOMERS, None, utc(2025, 1, 1)) for n in p]) == 1
    assert client.http.retries == 3
    with pytest.raises(PlatformError, match="401"):
        make_client(shop, access_token="shpat_wrong").execute(queries.CUSTOMERS, {"first": 1})
