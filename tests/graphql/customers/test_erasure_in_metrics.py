"""An erased customer vanishes from the dashboard metrics, the list, segments and exports."""

from __future__ import annotations

from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from tests.factories import StoreBuilder, utc

DASHBOARD = """{ dashboard(preset: LAST_30_DAYS) {
  spendersProspects { spenders prospects customers }
  spenderSegments { spenders }
  consentKpis { channel bucket value }
  topTags { tag { name } customers }
} }"""
ERASE = "mutation($ids: [ID!]) { customersErase(ids: $ids) { __typename ... on BulkChange { changed } } }"


def test_erased_customer_drops_out_of_every_dashboard_count(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com", created_at=utc(2025, 1, 1))
        jan = b.customer(email="jan@example.com", created_at=utc(2025, 1, 1))
        b.customer(email="bob@example.com", created_at=utc(2025, 1, 1))
        for customer in (anna, jan):
            b.order(customer, "10.00", utc(2025, 6, 1))
            b.consent(customer, "EMAIL", "SUBSCRIBED", utc(2025, 6, 1))
            b.tag(customer, "vip", utc(2025, 6, 1))
        b.commit()
    key = api.key(store, "write")
    before = api.data(DASHBOARD, key=key)["dashboard"]
    assert before["spendersProspects"] == {"spenders": 2, "prospects": 1, "customers": 3}
    assert api.data(ERASE, {"ids": [global_id("Customer", anna.id)]}, key=key)["customersErase"]["changed"] == 1
    after = api.data(DASHBOARD, key=key)["dashboard"]
    assert after["spendersProspects"] == {"spenders": 1, "prospects": 1, "customers": 2}
    assert after["spenderSegments"]["spenders"] == 1

    def subscribed(dashboard):
        return next(k["value"] for k in dashboard["consentKpis"] if k["channel"] == "EMAIL" and k["bucket"] == "SUBSCRIBED")

    assert (subscribed(before), subscribed(after)) == (2, 1)
    assert before["topTags"] == [{"tag": {"name": "vip"}, "customers": 2}]
    assert after["topTags"] == [{"tag": {"name": "vip"}, "customers": 1}]
