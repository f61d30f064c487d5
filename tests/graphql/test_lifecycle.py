"""Lifecycle and marketing analytics through GraphQL (docs/metrics.md, “Lifecycle and marketing”): every root field and the Customer fields."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from crm_graph.models import MarketingSpend
from crm_graph.services.dates import store_today
from crm_graph.services.lifecycle.clv import fit_clv_models
from tests.factories import StoreBuilder, utc
from tests.services.lifecycle.simulate import simulate_store

APRIL = {"from": "2026-04-01", "to": "2026-04-30"}

ANALYTICS = """
query ($range: DateRange) {
  cohorts(range: $range) { label size cells { monthsSince customers share orders revenue { ...M } } }
  purchaseRhythm(range: $range) { gaps averageDaysBetweenOrders medianDaysBetweenOrders repeatBuyers averageLifetimeDays }
  productPopularity(range: $range, sortBy: UNITS, limit: 5) { name buyers orders units revenue { ...M } }
  productPairs(range: $range) { productAName productBName orders support confidenceAToB lift totalOrders }
  acquisitionChannels(range: $range) {
    channel newCustomers revenueInRange { ...M } revenueToDate { ...M } repeatRate averageLtv { ...M } spend { ...M }
    cac { ...M } ltvToCac roi
  }
  lifecycleStages(range: $range, granularity: MONTH) { label lastDay new active atRisk churned reactivated buyers }
  clvModel { status }
}
fragment M on Money { amount currencyCode }
"""


def _money(amount: str, currency: str) -> dict:
    return {"amount": amount, "currencyCode": currency}


def _shop(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        mug, tea = b.product("Mug"), b.product("Tea")
        ann = b.customer(email="ann@example.com", acquisition_channel="google / cpc")
        bob = b.customer(email="bob@example.com", acquisition_channel="newsletter")
        b.order(ann, "30.00", utc(2026, 4, 2, 10), lines=[(mug, 1, "10.00"), (tea, 2, "10.00")])
        b.order(ann, "10.00", utc(2026, 4, 12, 10), lines=[(mug, 1, "10.00")])
        b.order(bob, "20.00", utc(2026, 4, 20, 10), lines=[(tea, 2, "10.00")])
        session.add(MarketingSpend(store_id=store.id, channel="google / cpc", day=date(2026, 4, 1), amount=Decimal("15.00")))
        session.add(MarketingSpend(store_id=store.id, channel="newsletter", day=date(2026, 4, 1), amount=Decimal("0.00")))
        b.commit()


def test_every_field_by_hand(api, engine, store):
    _shop(engine, store)
    data = api.data(ANALYTICS, {"range": APRIL}, key=api.key(store, "read"))
    m = lambda amount: _money(amount, store.currency)  # noqa: E731

    assert data["cohorts"] == [{"label": "2026-04", "size": 2, "cells": [
        {"monthsSince": 0, "customers": 2, "share": 1.0, "orders": 3, "revenue": m("60.00")}]}]
    # ann: one gap of 10 days; lifetime 10 days.
    assert data["purchaseRhythm"] == {"gaps": 1, "averageDaysBetweenOrders": 10.0, "medianDaysBetweenOrders": 10.0,
                                      "repeatBuyers": 1, "averageLifetimeDays": 10.0}
    assert data["productPopularity"] == [
        {"name": "Tea", "buyers": 2, "orders": 2, "units": 4, "revenue": m("40.00")},
        {"name": "Mug", "buyers": 1, "orders": 2, "units": 2, "revenue": m("20.00")},
    ]
    # Baskets {Mug, Tea}, {Mug}, {Tea}: N = 3; together 1; lift 1 × 3 / (2 × 2).
    assert data["productPairs"] == [{"productAName": "Mug", "productBName": "Tea", "orders": 1, "support": 1 / 3,
                                     "confidenceAToB": 0.5, "lift": 0.75, "totalOrders": 3}]
    assert data["acquisitionChannels"] == [
        {"channel": "google / cpc", "newCustomers": 1, "revenueInRange": m("40.00"), "revenueToDate": m("40.00"),
         "repeatRate": 1.0, "averageLtv": m("40.00"), "spend": m("15.00"), "cac": m("15.00"), "ltvToCac": 2.666667,
         "roi": 1.666667},
        {"channel": "newsletter", "newCustomers": 1, "revenueInRange": m("20.00"), "revenueToDate": m("20.00"),
         "repeatRate": 0.0, "averageLtv": m("20.00"), "spend": m("0.00"), "cac": None, "ltvToCac": None, "roi": None},
    ]
    # As of 30 April: ann first ordered 28 days before (NEW), bob 10 days before (NEW).
    assert data["lifecycleStages"] == [{"label": "2026-04", "lastDay": "2026-04-30", "new": 2, "active": 0,
                                        "atRisk": 0, "churned": 0, "reactivated": 0, "buyers": 2}]
    assert data["clvModel"] is None
    # `limit` keeps the channels with the most new customers (ties by name).
    top = api.data("query($range: DateRange) { acquisitionChannels(range: $range, limit: 1) { channel } }",
                   {"range": APRIL}, key=api.key(store, "read"))
    assert top["acquisitionChannels"] == [{"channel": "google / cpc"}]


def test_money_is_in_the_store_currency(api, engine, make_store):
    store = make_store(currency="PLN")
    _shop(engine, store)
    data = api.data(ANALYTICS, {"range": APRIL}, key=api.key(store, "read"))
    assert data["cohorts"][0]["cells"][0]["revenue"] == _money("60.00", "PLN")
    assert {row["revenue"]["currencyCode"] for row in data["productPopularity"]} == {"PLN"}
    assert data["acquisitionChannels"][0]["cac"] == _money("15.00", "PLN")


def test_empty_store_answers_without_nan(api, store):
    body = api.post(ANALYTICS, {"range": APRIL}, key=api.key(store, "read"))
    assert not body.get("errors")
    text = json.dumps(body)
    assert "NaN" not in text and "Infinity" not in text
    data = body["data"]
    assert data["productPairs"] == [] and data["acquisitionChannels"] == []
    assert data["purchaseRhythm"]["averageDaysBetweenOrders"] is None
    assert data["cohorts"] == [{"label": "2026-04", "size": 0, "cells": [
        {"monthsSince": 0, "customers": 0, "share": 0.0, "orders": 0, "revenue": _money("0.00", store.currency)}]}]


def test_bad_arguments_are_user_errors(api, store):
    key = api.key(store, "read")
    assert api.error_codes("{ cohorts(range: {from: \"2026-05-01\", to: \"2026-04-01\"}) { size } }", key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ productPairs(preset: LAST_90_DAYS, limit: 0) { orders } }", key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ productPairs(preset: LAST_90_DAYS, minOrders: 0) { orders } }", key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(
        "{ purchaseRhythm(range: {from: \"2026-04-01\", to: \"2026-04-30\"}, preset: LAST_7_DAYS) { gaps } }", key=key
    ) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ lifecycleStages(range: {from: \"2020-01-01\", to: \"2026-01-01\"}) { buyers } }",
                           key=key) == ["BAD_USER_INPUT"]  # 2,193 daily points > 1,000
    assert api.error_codes("{ acquisitionChannels(preset: LAST_90_DAYS, limit: 0) { channel } }", key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ acquisitionChannels(preset: LAST_90_DAYS, limit: 101) { channel } }", key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes("{ clvModel { status } }") == ["UNAUTHENTICATED"]


def test_clv_model_and_customer_fields(api, engine, make_store):
    store = make_store(settings={"clv_min_customers": 50})
    simulate_store(engine, store, n=120, seed=4)
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        today = store_today(store)
        fresh = b.customer(email="fresh@example.com")
        b.order(fresh, "12.00", utc(today.year, today.month, today.day) - timedelta(days=3))
        b.customer(email="prospect@example.com")
        b.commit()
    fit_clv_models(engine, store, cutoff=date(2025, 12, 31))

    key = api.key(store, "read")
    model = api.data("{ clvModel { id status cutoff customers timeUnitDays horizonDays bgnbd { r alpha a b } "
                     "gammaGamma { p q gamma populationMean { amount currencyCode } } } }", key=key)["clvModel"]
    assert model["status"] == "READY" and model["cutoff"] == "2025-12-31" and model["customers"] == 120
    assert (model["timeUnitDays"], model["horizonDays"]) == (7, 365)
    assert all(value > 0 for value in model["bgnbd"].values())
    mean = model["gammaGamma"]["populationMean"]
    assert mean is None or mean["currencyCode"] == store.currency

    page = api.data("{ customers(first: 200) { nodes { email lifecycleStage clv { pAlive expectedOrders12Months "
                    "expectedOrderValue { amount currencyCode } predictedValue12Months { amount currencyCode } "
                    "frequency modelId } } } }", key=key)["customers"]["nodes"]
    by_email = {node["email"]: node for node in page}
    assert by_email["prospect@example.com"]["clv"] is None and by_email["prospect@example.com"]["lifecycleStage"] is None
    # Ordered after the cut-off: no prediction yet, but a stage (first order 3 days ago → NEW).
    assert by_email["fresh@example.com"]["clv"] is None and by_email["fresh@example.com"]["lifecycleStage"] == "NEW"
    simulated = [node for node in page if node["email"].startswith("c")]
    assert len(simulated) == 120 and all(node["clv"] is not None for node in simulated)
    one = simulated[0]["clv"]
    # The predictions name the fit by its global id: the one `clvModel` shows.
    assert 0 <= one["pAlive"] <= 1 and {node["clv"]["modelId"] for node in simulated} == {model["id"]}
    assert one["expectedOrderValue"]["currencyCode"] == one["predictedValue12Months"]["currencyCode"] == store.currency
    # predicted = expected orders × expected value (the value is rounded to cents before display).
    expected, value = Decimal(str(one["expectedOrders12Months"])), Decimal(one["expectedOrderValue"]["amount"])
    assert abs(Decimal(one["predictedValue12Months"]["amount"]) - expected * value) <= (
        Decimal("0.01") + expected * Decimal("0.005"))
    # Every simulated customer's last order is long ago: none of them is NEW today.
    assert {node["lifecycleStage"] for node in simulated} <= {"CHURNED", "AT_RISK", "ACTIVE", "REACTIVATED"}


CLV_LIST = """
query ($filter: CustomerFilter, $sort: CustomerSort!, $after: String) {
  customers(filter: $filter, sort: $sort, direction: DESC, first: 2, after: $after) {
    totalCount pageInfo { endCursor hasNextPage } nodes { email clv { pAlive predictedValue12Months { amount currencyCode } } }
  }
}
"""


def test_customer_list_filters_and_sorts_on_clv(api, engine, store):
    from crm_graph.models import ClvModel, CustomerClv

    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        people = [b.customer(email=f"{name}@example.com") for name in ("a", "b", "c", "d")]
        b.customer(email="prospect@example.com")
        b.commit()
        model = ClvModel(store_id=store.id, status="READY", cutoff=date(2026, 6, 30))
        session.add(model)
        session.flush()
        for person, alive, value in zip(people, (0.9, 0.2, 0.5, 0.1), ("10.00", "300.00", "50.00", None)):
            session.add(CustomerClv(customer_id=person.id, store_id=store.id, model_id=model.id, frequency=1,
                                    recency_days=10, age_days=40, expected_orders=1.0, p_alive=alive,
                                    predicted_value=None if value is None else Decimal(value)))
        session.commit()
    key = api.key(store, "read")

    likely_to_churn = api.data(CLV_LIST, {"filter": {"pAliveMax": 0.3}, "sort": "P_ALIVE"}, key=key)["customers"]
    assert likely_to_churn["totalCount"] == 2
    assert [n["email"] for n in likely_to_churn["nodes"]] == ["b@example.com", "d@example.com"]

    by_value = api.data(CLV_LIST, {"sort": "PREDICTED_VALUE"}, key=key)["customers"]
    assert [n["email"] for n in by_value["nodes"]] == ["b@example.com", "c@example.com"]
    rest = api.data(CLV_LIST, {"sort": "PREDICTED_VALUE", "after": by_value["pageInfo"]["endCursor"]}, key=key)["customers"]
    # d has no predicted value and the prospect no prediction at all: they come last.
    assert rest["nodes"][0]["email"] == "a@example.com"
    assert {n["email"] for n in rest["nodes"][1:]} <= {"d@example.com", "prospect@example.com"}

    valuable = api.data(CLV_LIST, {"filter": {"predictedValueMin": "50", "pAliveMin": 0.15}, "sort": "PREDICTED_VALUE"},
                        key=key)["customers"]
    assert [n["email"] for n in valuable["nodes"]] == ["b@example.com", "c@example.com"]
    assert api.error_codes(CLV_LIST, {"filter": {"pAliveMin": 1.5}, "sort": "P_ALIVE"}, key=key) == ["BAD_USER_INPUT"]


NODE = "query($id: ID!) { node(id: $id) { id ... on ClvModel { status cutoff } } }"


def test_clv_model_is_a_node_of_its_store_only(api, engine, make_store):
    from crm_graph.graphql.relay import global_id
    from crm_graph.models import ClvModel

    mine, other = make_store(), make_store()
    with Session(engine, expire_on_commit=False) as session:
        ours = ClvModel(store_id=mine.id, status="NOT_ENOUGH_HISTORY", cutoff=date(2026, 6, 30))
        theirs = ClvModel(store_id=other.id, status="READY", cutoff=date(2026, 6, 30))
        session.add_all([ours, theirs])
        session.commit()
    key = api.key(mine, "read")
    latest = api.data("{ clvModel { id } }", key=key)["clvModel"]
    assert latest["id"] == global_id("ClvModel", ours.id) != str(ours.id)
    assert api.data(NODE, {"id": latest["id"]}, key=key)["node"] == {
        "id": latest["id"], "status": "NOT_ENOUGH_HISTORY", "cutoff": "2026-06-30"}
    # Another store's fit, a bare row id and an id of another type are not found.
    for wrong in (global_id("ClvModel", theirs.id), str(ours.id), global_id("Customer", ours.id)):
        assert api.data(NODE, {"id": wrong}, key=key)["node"] is None
