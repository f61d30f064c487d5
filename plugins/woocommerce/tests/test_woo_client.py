"""The client against the fake shop: both auth forms, pages, GMT dates, retries, a list that shifts."""

from datetime import timedelta

import pytest

from crm_graph.connectors.http import PlatformError
from crm_graph_woocommerce.client import WooCommerceClient
from crm_graph_woocommerce.fake_server import FakeWooCommerce
from crm_graph_woocommerce.settings import WooCommerceSettings
from tests.factories import utc


@pytest.fixture
def shop():
    fake = FakeWooCommerce(timeout_seconds=0.6)
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


def client(shop, **settings):
    values = {"url": shop.url, "consumer_key": "ck_test", "consumer_secret": "cs_test", "timeout": 0.3,
              "retry_backoff": 0.01, **settings}
    return WooCommerceClient(WooCommerceSettings(**values))


@pytest.mark.parametrize("auth", ["basic", "query"])
def test_both_auth_forms(shop, auth):
    shop.load_samples()
    c = client(shop, auth=auth)
    assert len(c.get("/customers").json()) == 2
    path, params = shop.log[-1]
    assert ("consumer_key" in params) == (auth == "query")


def test_wrong_keys_are_refused_without_retry(shop):
    with pytest.raises(PlatformError, match="401") as caught:
        client(shop, consumer_secret="cs_wrong").get("/customers")
    assert caught.value.status == 401 and len(shop.log) == 1
    assert "cs_wrong" not in str(caught.value)


def test_429_500_and_timeouts_are_retried(shop):
    shop.load_samples()
    shop.faults = [429, 500, "timeout", 503]
    c = client(shop)
    assert len(c.get("/customers").json()) == 2
    assert c.http.retries == 4


def test_retries_give_up_with_a_clear_error(shop):
    shop.faults = [500] * 10
    with pytest.raises(PlatformError, match="failed 3 times"):
        client(shop, max_retries=2).get("/customers")


def test_pages_of_100_with_totals(shop):
    for i in range(250):
        shop.customers.put({"id": i + 1, "email": f"c{i}@example.com", "date_created_gmt": "2024-01-01T00:00:00"})
    pages = list(client(shop).pages("/customers"))
    assert [len(items) for items, _ in pages] == [100, 100, 50] and pages[0][1] == 250
    assert [params["per_page"] for _, params in shop.log] == ["100"] * 3


def test_modified_filters_are_sent_in_gmt(shop):
    # The fake shop is at UTC-3: without dates_are_gmt it would read our UTC instants as local time.
    base = utc(2024, 1, 1)
    shop.add_order(modified=base + timedelta(hours=1))
    shop.add_order(modified=base + timedelta(hours=5))
    c = client(shop)
    seen = [item["id"] for items, _ in c.modified_pages("/orders", base, base + timedelta(hours=2)) for item in items]
    assert len(seen) == 1
    assert shop.log[-1][1]["dates_are_gmt"] == "true" and shop.log[-1][1]["modified_after"] == "2024-01-01T00:00:00"


def test_no_record_is_skipped_when_records_change_between_pages(shop):
    base = utc(2024, 1, 1)
    ids = [shop.add_order(modified=base + timedelta(minutes=i))["id"] for i in range(250)]
    modified_once = []

    def edit_during_the_read(path, params):
        # After the first page is served, an order of that page is modified: with plain page numbers
        # the list would shift left by one and the first order of page 2 would never be read.
        if path.endswith("/orders") and params.get("page") and not modified_once and len(shop.log) == 2:
            shop.orders.items[ids[10]]["date_modified_gmt"] = "2024-01-01T23:00:00"
            modified_once.append(ids[10])

    shop.before_request = edit_during_the_read
    seen = {item["id"] for items, _ in client(shop).modified_pages("/orders", None, utc(2024, 1, 2)) for item in items}
    assert modified_once and seen == set(ids)
