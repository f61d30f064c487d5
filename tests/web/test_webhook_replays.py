"""Replayed and re-labelled webhook deliveries, through the endpoint and the WEBHOOK jobs it queues.

A platform signs the body only: the topic, the delivery id and Shopify's send time are headers
anyone can change on a captured delivery. A genuine body resent under a delete topic deletes
nothing; a genuine deletion applies only once the platform says the record is gone; a replay
under a new or no delivery id changes nothing; an older delivery does not overwrite newer data; a
stale delivery is refused. The shops are the plugins' fake servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from crm_graph.services.connectors import register_connector
from tests.ingest_helpers import count, rows
from tests.webhook_helpers import WEBHOOK_SECRET, registered_fake_woocommerce
from tests.workers.conftest import wait_for_job

crm_graph_woocommerce = pytest.importorskip("crm_graph_woocommerce")
crm_graph_shopify = pytest.importorskip("crm_graph_shopify")
from crm_graph_shopify import webhooks as shopify_webhooks  # noqa: E402
from crm_graph_shopify.fake_server import FakeShopify  # noqa: E402
from crm_graph_shopify.fake_server import sample as shopify_sample  # noqa: E402
from crm_graph_woocommerce import webhooks as woo_webhooks  # noqa: E402
from crm_graph_woocommerce.fake_server import sample as woo_sample  # noqa: E402

SECRET = WEBHOOK_SECRET
CUSTOMERS = "{ customers(first: 10) { nodes { id firstName } } }"
UPDATE = """mutation($id: ID!, $input: CustomerInput!) { customerUpdate(id: $id, input: $input) {
  __typename ... on Customer { firstName } ... on UserError { code message field } } }"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _woo_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def woo(engine, store):
    """A fake WooCommerce, registered for `store` with the webhook secret."""
    with registered_fake_woocommerce(engine, store) as fake:
        yield fake


@pytest.fixture
def shopify(engine, store):
    """A fake Shopify, registered for `store` with an app secret."""
    fake = FakeShopify(token="shpat_x", timeout_seconds=0.6)
    url = fake.start()
    with Session(engine) as session:
        register_connector(session, store, "shopify", {
            "shop_url": url, "access_token": "shpat_x", "app_secret": SECRET, "timeout": 0.5, "max_retries": 0})
        session.commit()
    yield fake
    fake.stop()


def woo_customer(customer_id: int = 25, *, modified: datetime | None = None, **changes) -> dict:
    """The vendor's sample customer as the shop sends it after a change at `modified` (now)."""
    return dict(woo_sample("woocommerce_customer_retrieve.json"), id=customer_id,
                date_modified_gmt=_woo_time(modified or _now()), **changes)


def post_woo(api, store, topic: str, payload, delivery: str | None) -> dict:
    """Send a signed WooCommerce delivery; the answer, with the job's outcome once it ran."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": woo_webhooks.signature(body, SECRET),
               "Content-Type": "application/json"}
    if delivery is not None:
        headers["X-WC-Webhook-Delivery-ID"] = delivery
    return _outcome(api, api.client.post(f"/webhooks/woocommerce/{store.slug}", content=body, headers=headers))


def post_shopify(api, store, topic: str, payload, webhook_id: str | None, *, sent: datetime | None = None) -> dict:
    """Send a signed Shopify delivery; the answer, with the job's outcome once it ran."""
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": shopify_webhooks.signature(body, SECRET),
               "X-Shopify-Triggered-At": (sent or _now()).isoformat(), "Content-Type": "application/json"}
    if webhook_id is not None:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return _outcome(api, api.client.post(f"/webhooks/shopify/{store.slug}", content=body, headers=headers))


def _outcome(api, response) -> dict:
    answer = {"status_code": response.status_code, **response.json()}
    if response.status_code == 200 and "job" in answer:
        job = wait_for_job(api.engine, int(answer["job"]))
        answer.update(job_status=job.status, counts=job.counts)
    return answer


def test_a_woocommerce_customer_created_resent_as_deleted_deletes_nothing(api, engine, store, woo):
    customer = woo_customer(25)
    woo.customers.put(customer)
    created = post_woo(api, store, "customer.created", customer, "c-1")
    assert created["job_status"] == "SUCCEEDED" and created["counts"]["created"] == 1
    for delivery in ("c-2", None):  # the genuine body, relabelled, with a new or without a delivery id
        swapped = post_woo(api, store, "customer.deleted", customer, delivery)
        assert swapped["status_code"] == 400 and "only the deleted id" in swapped["error"]
    assert count(engine, "customer", store.id) == 1

    # A deletion body, while the shop still has the customer: a notification the shop does not confirm.
    unconfirmed = post_woo(api, store, "customer.deleted", {"id": 25}, "c-3")
    assert unconfirmed["counts"].get("deleted", 0) == 0 and unconfirmed["counts"]["unconfirmed_deletions"] == 1
    assert count(engine, "customer", store.id) == 1

    del woo.customers.items[25]  # the shop deletes the customer: the genuine deletion applies
    deleted = post_woo(api, store, "customer.deleted", {"id": 25}, "c-4")
    assert deleted["counts"]["deleted"] == 1 and count(engine, "customer", store.id) == 0


def test_a_woocommerce_order_trashed_in_the_shop_is_deleted(api, engine, store, woo):
    order = dict(woo_sample("woocommerce_order_retrieve.json"), date_modified_gmt=_woo_time(_now()))
    woo.orders.put(order)
    assert post_woo(api, store, "order.created", order, "o-1")["counts"]["created"] == 1
    assert post_woo(api, store, "order.deleted", order, "o-2")["status_code"] == 400
    woo.trash_order(order["id"])
    assert post_woo(api, store, "order.deleted", {"id": order["id"]}, "o-3")["counts"]["deleted"] == 1
    assert count(engine, "orders", store.id) == 0


def test_a_shopify_customers_create_resent_as_customers_delete_deletes_nothing(api, engine, store, shopify):
    customer = dict(shopify_sample("shopify_webhook_customers_create.json"), updated_at=_now().isoformat())
    gid = customer["admin_graphql_api_id"]
    shopify.customers[gid] = {"id": gid, "updatedAt": customer["updated_at"]}
    assert post_shopify(api, store, "customers/create", customer, "w-1")["counts"]["created"] == 1
    for webhook_id in ("w-2", None):
        swapped = post_shopify(api, store, "customers/delete", customer, webhook_id)
        assert swapped["status_code"] == 400 and "only the deleted ids" in swapped["error"]
    assert count(engine, "customer", store.id) == 1

    deletion = shopify_sample("shopify_webhook_customers_delete.json")
    unconfirmed = post_shopify(api, store, "customers/delete", deletion, "w-3")
    assert unconfirmed["counts"]["unconfirmed_deletions"] == 1 and count(engine, "customer", store.id) == 1
    del shopify.customers[gid]
    assert post_shopify(api, store, "customers/delete", deletion, "w-4")["counts"]["deleted"] == 1
    assert count(engine, "customer", store.id) == 0


def test_a_deletion_body_relabelled_as_an_update_is_refused(api, engine, store, woo, shopify):
    assert post_woo(api, store, "customer.updated", {"id": 25}, "x-1")["status_code"] == 400
    assert post_shopify(api, store, "customers/update", shopify_sample("shopify_webhook_customers_delete.json"),
                        "x-2")["status_code"] == 400
    assert post_woo(api, store, "customer.created", woo_sample("woocommerce_product_retrieve.json") | {
        "date_modified_gmt": _woo_time(_now())}, "x-3")["status_code"] == 400  # a product is not a customer
    assert count(engine, "customer", store.id) == 0 and count(engine, "job", store.id) == 0


def test_a_replay_with_a_new_or_no_delivery_id_is_not_applied_again(api, engine, store, woo):
    key = api.key(store, "write")
    customer = woo_customer(31, first_name="Original")
    first = post_woo(api, store, "customer.updated", customer, "r-1")
    assert first["counts"]["created"] == 1
    [node] = api.data(CUSTOMERS, key=key)["customers"]["nodes"]
    edited = api.data(UPDATE, {"id": node["id"], "input": {"firstName": "Edited"}}, key=key)["customerUpdate"]
    assert edited == {"__typename": "Customer", "firstName": "Edited"}
    for delivery in ("r-2", None):
        replay = post_woo(api, store, "customer.updated", customer, delivery)
        assert replay["status_code"] == 200 and replay["counts"]["duplicate"] == 1, replay["counts"]
    assert post_woo(api, store, "customer.updated", customer, "r-1")["job"] == first["job"]  # its id: the same job
    assert [n["firstName"] for n in api.data(CUSTOMERS, key=key)["customers"]["nodes"]] == ["Edited"]


def test_an_older_delivery_does_not_overwrite_newer_data(api, engine, store, woo):
    key = api.key(store, "write")
    newer = woo_customer(40, first_name="Newer")
    older = woo_customer(40, modified=_now() - timedelta(hours=1), first_name="Older")
    assert post_woo(api, store, "customer.updated", newer, "v-2")["counts"]["created"] == 1
    late = post_woo(api, store, "customer.updated", older, "v-1")  # sent first, delivered last
    assert late["counts"]["older_than_stored"] == 1 and late["counts"].get("updated", 0) == 0
    assert [n["firstName"] for n in api.data(CUSTOMERS, key=key)["customers"]["nodes"]] == ["Newer"]


def test_stale_deliveries_are_refused(api, engine, store, woo, shopify, caplog):
    caplog.set_level(logging.WARNING, logger="crm_graph.webhooks")
    long_ago = _now() - timedelta(days=4)  # the default limit is 72 hours
    stale = post_woo(api, store, "customer.updated", woo_customer(50, modified=long_ago), "s-1")
    assert stale["status_code"] == 400 and "stale" in stale["error"]
    customer = dict(shopify_sample("shopify_webhook_customers_update.json"), updated_at=long_ago.isoformat())
    assert post_shopify(api, store, "customers/update", customer, "s-2")["status_code"] == 400
    customer["updated_at"] = _now().isoformat()  # a fresh body, with an old send time (the header is not
    assert post_shopify(api, store, "customers/update", customer, "s-3", sent=long_ago)["status_code"] == 400  # signed)
    assert count(engine, "customer", store.id) == 0 and count(engine, "job", store.id) == 0
    assert sum("stale" in record.getMessage() for record in caplog.records) == 3


@pytest.mark.parametrize("path", ["/webhooks/woocommerce/store%00b", "/webhooks/woo%00commerce/store",
                                  "/webhooks/woocommerce/" + "x" * 300, "/webhooks/WooCommerce/%E2%82%AC"])
def test_a_path_that_names_no_connector_or_store_is_a_404_with_one_log_line(api, path, caplog):
    caplog.set_level(logging.INFO)
    response = api.client.post(path, content=b"{}")
    assert response.status_code == 404
    assert "Traceback" not in caplog.text and not any(record.exc_info for record in caplog.records)
    assert [record.levelname for record in caplog.records if record.name == "crm_graph.webhooks"] == ["WARNING"]


def test_refused_topic_swaps_leave_no_delivery_rows(api, engine, store, woo):
    customer = woo_customer(60)
    post_woo(api, store, "customer.deleted", customer, "n-1")
    assert rows(engine, "SELECT COUNT(*) FROM webhook_delivery WHERE store_id = :s", s=store.id) == [(0,)]
