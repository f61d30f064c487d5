"""The webhook endpoint's refusals (the connectors' own signature tests are in their plugins)."""

from crm_graph.web.webhooks import MAX_BODY


def test_unknown_stores_connectors_and_oversized_bodies_are_refused(api, store):
    unknown_store = api.client.post("/webhooks/woocommerce/no-such-store", content=b"{}")
    unset_connector = api.client.post(f"/webhooks/woocommerce/{store.slug}", content=b"{}")
    assert unknown_store.status_code == unset_connector.status_code == 404
    assert unknown_store.json() == unset_connector.json()  # which store slugs exist is not told
    assert api.client.post(f"/webhooks/magento/{store.slug}", content=b"{}").status_code == 404
    assert api.client.post(f"/webhooks/shopify/{store.slug}", content=b"x" * (MAX_BODY + 1)).status_code == 400
    assert api.client.get(f"/webhooks/shopify/{store.slug}").status_code == 405
