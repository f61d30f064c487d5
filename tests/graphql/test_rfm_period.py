"""The RFM grid and the period KPIs over GraphQL: arguments, shapes, errors, precomputed grids."""

from datetime import date
from decimal import Decimal

from crm_graph.services.analytics.precompute import precompute_day
from tests.services.analytics.test_period import build_store as build_period_store
from tests.services.analytics.test_rfm import build_march_store

GRID = """
query Grid($range: DateRange, $preset: DatePreset, $scheme: RfmScheme, $live: Boolean! = false) {
  rfmGrid(range: $range, preset: $preset, scheme: $scheme, live: $live) {
    scheme customers prospects revenue { amount currencyCode } filtered computedAt
    range { from to days }
    cells { r fm segment segmentLabel customers revenue { amount currencyCode } shareOfCustomers }
    segments { segment label customers revenue { amount currencyCode } shareOfCustomers cells { r fm } }
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
    netRevenue { ...Cash }
    orders { value }
    averageRevenuePerCustomer { ...Cash }
    ordersPerCustomer { value previous change relativeChange }
    averageOrderValue { ...Cash }
    spenders { value previous }
    averageLtv { ...Cash }
    acquiredPerDay { value previous change relativeChange }
    newCustomerEvery { value valueIso previous previousIso change relativeChange }
    topCustomers { value } topCustomersRevenue { ...Cash } topCustomersShare { value previous change relativeChange }
    oneTimeBuyers { value } repeatBuyers { value }
    unattributedOrders { value } unattributedRevenue { ...Cash }
    series { label from to customers newCustomers revenue { amount currencyCode } orders }
  }
}
fragment Cash on MoneyComparison {
  value { amount currencyCode } previous { amount currencyCode } change { amount currencyCode } relativeChange
}
"""

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _money(amount, currency):
    return {"amount": amount, "currencyCode": currency}


def test_rfm_grid_over_graphql(api, session, store):
    build_march_store(session, store)
    key = api.key(store, "read")
    money = lambda amount: _money(amount, store.currency)  # noqa: E731
    grid = api.data(GRID, {"range": MARCH}, key=key)["rfmGrid"]
    assert (grid["scheme"], grid["customers"], grid["prospects"], grid["revenue"]) == ("QUINTILE", 7, 2, money("1030.00"))
    assert grid["range"] == {"from": "2026-03-01", "to": "2026-03-31", "days": 31}
    assert len(grid["cells"]) == 25 and grid["computedAt"] is None and grid["filtered"] is False
    assert grid["cells"][0] == {"r": 5, "fm": 5, "segment": "CHAMPIONS", "segmentLabel": "Champions",
                                "customers": 0, "revenue": money("0.00"), "shareOfCustomers": 0.0}
    cell = next(c for c in grid["cells"] if (c["r"], c["fm"]) == (3, 3))  # C and F (see test_rfm)
    assert (cell["customers"], cell["revenue"], cell["shareOfCustomers"]) == (2, money("600.00"), 0.2857)
    potential = next(s for s in grid["segments"] if s["segment"] == "POTENTIAL_LOYALIST")
    # Cells 52, 43, 42, 33: A (42), E (43), C and F (33) -> 4 customers, 100 + 30 + 600.
    assert (potential["customers"], potential["revenue"], potential["shareOfCustomers"]) == (4, money("730.00"), 0.5714)
    assert sorted((c["r"], c["fm"]) for c in potential["cells"]) == [(3, 3), (4, 2), (4, 3), (5, 2)]
    assert sum(s["customers"] for s in grid["segments"]) == 7
    assert sum(Decimal(s["revenue"]["amount"]) for s in grid["segments"]) == Decimal("1030.00")

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


def _comparison(value, previous, relative):
    """What a Comparison shows for these rounded values: change = value − previous exactly."""
    change = None if value is None or previous is None else value - previous
    return value, previous, change, relative


def _cash(value, previous, relative, currency):
    v, p, c, r = _comparison(None if value is None else Decimal(value), None if previous is None else Decimal(previous),
                             relative)
    shown = lambda amount: None if amount is None else _money(f"{amount:.2f}", currency)  # noqa: E731
    return {"value": shown(v), "previous": shown(p), "change": shown(c), "relativeChange": r}


def test_period_kpis_over_graphql(api, session, store):
    build_period_store(session, store)
    k = api.data(KPIS, {"range": MARCH, "granularity": "WEEK"}, key=api.key(store, "read"))["periodKpis"]
    cur = store.currency
    assert k["previousRange"] == {"from": "2026-01-29", "to": "2026-02-28"}
    assert k["customers"] == {"value": 6, "previous": 2, "change": 4, "relativeChange": 2.0}
    assert k["newCustomers"] == {"value": 4, "previous": 2}
    assert k["lostCustomers"] == {"value": 2, "previous": 0, "change": 2, "relativeChange": None}
    assert k["lostShare"] == {"value": 0.2857}
    assert k["netRevenue"] == {"value": _money("700.00", cur), "previous": _money("140.00", cur),
                               "change": _money("560.00", cur), "relativeChange": 4.0}
    assert (k["orders"]["value"], k["averageOrderValue"]["value"], k["ordersPerCustomer"]["value"]) == (
        7, _money("100.00", cur), "1.17")
    assert k["averageRevenuePerCustomer"]["value"] == _money("116.67", cur)
    assert (k["averageLtv"]["value"], k["averageLtv"]["previous"]) == (_money("134.29", cur), _money("80.00", cur))
    # 134.29 − 80.00 = 54.29; 54.29 / 80 = 0.678625 -> 0.6786 (4 places, half up).
    assert k["averageLtv"] == _cash("134.29", "80.00", 0.6786, cur)
    assert k["newCustomerEvery"] == {"value": 669600, "valueIso": "P7DT18H", "previous": 1339200,
                                     "previousIso": "P15DT12H", "change": -669600,
                                     "relativeChange": -0.5}  # 31 days / 2 new in February
    assert (k["topCustomers"]["value"], k["topCustomersRevenue"]["value"], k["topCustomersShare"]["value"]) == (
        2, _money("400.00", cur), 0.5714)
    assert (k["oneTimeBuyers"]["value"], k["repeatBuyers"]["value"]) == (5, 1)
    assert (k["unattributedOrders"]["value"], k["unattributedRevenue"]["value"]) == (1, _money("33.00", cur))
    # Every comparison: change = value − previous as shown, relativeChange = change / previous to 4 places.
    for name in ("netRevenue", "averageRevenuePerCustomer", "averageOrderValue", "averageLtv", "topCustomersRevenue",
                 "unattributedRevenue"):
        figure = k[name]
        value, previous = (None if figure[f] is None else Decimal(figure[f]["amount"]) for f in ("value", "previous"))
        assert all(figure[f] is None or figure[f]["currencyCode"] == cur for f in ("value", "previous", "change"))
        assert figure == _cash(value, previous, None if not previous else
                               float(((value - previous) / previous).quantize(Decimal("0.0001"), "ROUND_HALF_UP")), cur)
    for name in ("ordersPerCustomer", "acquiredPerDay", "topCustomersShare"):
        figure = k[name]
        value, previous = (None if figure[f] is None else Decimal(str(figure[f])) for f in ("value", "previous"))
        change = None if value is None or previous is None else value - previous
        assert (None if figure["change"] is None else Decimal(str(figure["change"]))) == change
        assert figure["relativeChange"] == (None if not previous else float(
            (change / previous).quantize(Decimal("0.0001"), "ROUND_HALF_UP")))
    assert [p["label"] for p in k["series"]] == ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    assert k["series"][2] == {"label": "2026-W11", "from": "2026-03-09", "to": "2026-03-15",
                              "customers": 3, "newCustomers": 2, "revenue": _money("260.00", cur), "orders": 3}


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
    k = api.data("{ periodKpis { range { days } customers { value } averageLtv { value { amount } } series { orders } } }",
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
    assert (grid["customers"], grid["filtered"], grid["revenue"]) == (2, True, _money("250.00", store.currency))
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
