"""The RFM grid and the period KPIs over GraphQL: arguments, shapes, errors, precomputed grids."""

from datetime import date

from crm_graph.services.analytics.precompute import precompute_day
from tests.services.analytics.test_period import build_store as build_period_store
from tests.services.analytics.test_rfm import build_march_store

GRID = """
query Grid($range: DateRange, $preset: DatePreset, $scheme: RfmScheme, $live: Boolean! = false) {
  rfmGrid(range: $range, preset: $preset, scheme: $scheme, live: $live) {
    scheme customers prospects revenue filtered computedAt
    range { from to days }
    cells { r fm segment segmentLabel customers revenue shareOfCustomers }
    segments { segment label customers revenue shareOfCustomers cells { r fm } }
  }
}
"""

KPIS = """
query Kpis($range: DateRange, $preset: DatePreset, $granularity: Granularity) {
  periodKpis(range: $range, preset: $preset, granularity: $granularity) {
    range { from to days }
    previousRange { from to }
    granularity
    customers { value previous change relativeChange }
    newCustomers { value previous }
    returningCustomers { value }
    lostCustomers { value previous change relativeChange }
    lostShare { value }
    netRevenue { value previous change relativeChange }
    orders { value }
    averageRevenuePerCustomer { value }
    ordersPerCustomer { value }
    averageOrderValue { value }
    spenders { value previous }
    averageLtv { value previous }
    acquiredPerDay { value }
    newCustomerEvery { seconds iso previousSeconds previousIso }
    topCustomers { value } topCustomersRevenue { value } topCustomersShare { value }
    oneTimeBuyers { value } repeatBuyers { value }
    unattributedOrders { value } unattributedRevenue { value }
    series { label from to customers newCustomers revenue orders }
  }
}
"""

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def test_rfm_grid_over_graphql(api, session, store):
    build_march_store(session, store)
    key = api.key(store, "read")
    grid = api.data(GRID, {"range": MARCH}, key=key)["rfmGrid"]
    assert (grid["scheme"], grid["customers"], grid["prospects"], grid["revenue"]) == ("QUINTILE", 7, 2, "1030.00")
    assert grid["range"] == {"from": "2026-03-01", "to": "2026-03-31", "days": 31}
    assert len(grid["cells"]) == 25 and grid["computedAt"] is None and grid["filtered"] is False
    assert grid["cells"][0] == {"r": 5, "fm": 5, "segment": "CHAMPIONS", "segmentLabel": "Champions",
                                "customers": 0, "revenue": "0.00", "shareOfCustomers": 0.0}
    cell = next(c for c in grid["cells"] if (c["r"], c["fm"]) == (3, 3))  # C and F (see test_rfm)
    assert (cell["customers"], cell["revenue"], cell["shareOfCustomers"]) == (2, "600.00", 0.2857)
    potential = next(s for s in grid["segments"] if s["segment"] == "POTENTIAL_LOYALIST")
    # Cells 52, 43, 42, 33: A (42), E (43), C and F (33) -> 4 customers, 100 + 30 + 600.
    assert (potential["customers"], potential["revenue"], potential["shareOfCustomers"]) == (4, "730.00", 0.5714)
    assert sorted((c["r"], c["fm"]) for c in potential["cells"]) == [(3, 3), (4, 2), (4, 3), (5, 2)]
    assert sum(s["customers"] for s in grid["segments"]) == 7

    edrone = api.data(GRID, {"range": MARCH, "scheme": "EDRONE"}, key=key)["rfmGrid"]
    assert (edrone["scheme"], len(edrone["cells"]), edrone["customers"]) == ("EDRONE", 16, 7)
    champions = next(s for s in edrone["segments"] if s["segment"] == "CHAMPIONS")
    assert champions["customers"] == 1 and {(c["r"], c["fm"]) for c in champions["cells"]} == {(4, 4), (4, 3), (3, 4)}


def test_rfm_grid_reads_the_precomputed_preset(api, session, store):
    build_march_store(session, store)
    precompute_day(session, store, date(2026, 3, 31))
    session.commit()
    key = api.key(store, "read")
    same_days = {"from": "2026-03-02", "to": "2026-03-31"}  # LAST_30_DAYS ending 31 March
    stored = api.data(GRID, {"range": same_days}, key=key)["rfmGrid"]
    live = api.data(GRID, {"range": same_days, "live": True}, key=key)["rfmGrid"]
    assert stored["computedAt"] is not None and live["computedAt"] is None
    assert stored["cells"] == live["cells"] and stored["prospects"] == live["prospects"]


def test_period_kpis_over_graphql(api, session, store):
    build_period_store(session, store)
    k = api.data(KPIS, {"range": MARCH, "granularity": "WEEK"}, key=api.key(store, "read"))["periodKpis"]
    assert k["previousRange"] == {"from": "2026-01-29", "to": "2026-02-28"}
    assert k["customers"] == {"value": 6, "previous": 2, "change": 4, "relativeChange": 2.0}
    assert k["newCustomers"] == {"value": 4, "previous": 2}
    assert k["lostCustomers"] == {"value": 2, "previous": 0, "change": 2, "relativeChange": None}
    assert k["lostShare"] == {"value": 0.2857}
    assert k["netRevenue"] == {"value": "700.00", "previous": "140.00", "change": "560.00", "relativeChange": 4.0}
    assert (k["orders"]["value"], k["averageOrderValue"]["value"], k["ordersPerCustomer"]["value"]) == (7, "100.00", "1.17")
    assert k["averageRevenuePerCustomer"]["value"] == "116.67"
    assert k["averageLtv"] == {"value": "134.29", "previous": "80.00"}
    assert k["newCustomerEvery"] == {"seconds": 669600, "iso": "P7DT18H", "previousSeconds": 1339200,
                                     "previousIso": "P15DT12H"}  # 31 days / 2 new in February
    assert (k["topCustomers"]["value"], k["topCustomersRevenue"]["value"], k["topCustomersShare"]["value"]) == (
        2, "400.00", 0.5714)
    assert (k["oneTimeBuyers"]["value"], k["repeatBuyers"]["value"]) == (5, 1)
    assert (k["unattributedOrders"]["value"], k["unattributedRevenue"]["value"]) == (1, "33.00")
    assert [p["label"] for p in k["series"]] == ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    assert k["series"][2] == {"label": "2026-W11", "from": "2026-03-09", "to": "2026-03-15",
                              "customers": 3, "newCustomers": 2, "revenue": "260.00", "orders": 3}


def test_argument_errors_name_the_argument(api, store):
    key = api.key(store, "read")
    body = api.post(GRID, {"range": MARCH, "preset": "LAST_7_DAYS"}, key=key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "`range`" in body["errors"][0]["message"]
    body = api.post(KPIS, {"range": {"from": "2026-03-31", "to": "2026-03-01"}}, key=key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "range.from" in body["errors"][0]["message"]
    body = api.post(KPIS, {"range": {"from": "2020-01-01", "to": "2026-03-01"}, "granularity": "DAY"}, key=key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "granularity" in body["errors"][0]["message"]
    assert api.error_codes(GRID, {}) == ["UNAUTHENTICATED"]


def test_default_range_is_last_30_days_and_empty_store_answers(api, store):
    k = api.data("{ periodKpis { range { days } customers { value } averageLtv { value } series { orders } } }",
                 key=api.key(store, "read"))["periodKpis"]
    assert k["range"]["days"] == 30 and k["customers"]["value"] == 0 and k["averageLtv"]["value"] is None
    assert len(k["series"]) == 30
    grid = api.data("{ rfmGrid { customers prospects cells { customers } } }", key=api.key(store, "read"))["rfmGrid"]
    assert grid["customers"] == 0 and len(grid["cells"]) == 25


def test_rfm_grid_with_a_customer_filter(api, session, store):
    from sqlmodel import select

    from crm_graph.models import Customer

    build_march_store(session, store)
    poles = select(Customer).where(Customer.store_id == store.id, Customer.email.in_(["a@example.com", "d@example.com"]))
    for customer in session.exec(poles):
        customer.country = "PL"
    session.commit()
    grid = api.data(GRID.replace("live: $live)", "live: $live, filter: {countries: [\"PL\"]})"), {"range": MARCH},
                    key=api.key(store, "read"))["rfmGrid"]
    assert (grid["customers"], grid["filtered"], grid["revenue"]) == (2, True, "250.00")
    assert {(c["r"], c["fm"]) for c in grid["cells"] if c["customers"]} == {(4, 2), (1, 4)}
    body = api.post(GRID.replace("live: $live)", "live: $live, filter: {countries: [\"Poland\"]})"), {"range": MARCH},
                    key=api.key(store, "read"))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "countries" in body["errors"][0]["message"]


def test_series_is_computed_when_asked_through_a_fragment(api, session, store):
    build_period_store(session, store)
    query = """
    fragment Points on PeriodKpis { series { orders } }
    query($range: DateRange) { periodKpis(range: $range) { orders { value } ...Points } }
    """
    k = api.data(query, {"range": MARCH}, key=api.key(store, "read"))["periodKpis"]
    assert k["orders"]["value"] == 7 and sum(p["orders"] for p in k["series"]) == 7
    bare = api.data("query($range: DateRange) { periodKpis(range: $range) { orders { value } } }", {"range": MARCH},
                    key=api.key(store, "read"))["periodKpis"]
    assert bare == {"orders": {"value": 7}}
