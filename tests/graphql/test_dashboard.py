"""The dashboard over GraphQL: every widget of docs/metrics.md, widgets A–H in one request, and bad input."""

from datetime import date, timedelta

import pytest

from crm_graph.services.dates import store_today
from tests.factories import StoreBuilder, utc

DASHBOARD = """
query($range: DateRange, $preset: DatePreset, $granularity: Granularity!) {
  dashboard(range: $range, preset: $preset) {
    from to preset comparisonDay
    consentKpis { channel bucket day comparedDay value previous change relativeChange }
    subscriptions(granularity: $granularity) { channel label from to subscribed unsubscribed unknown customers }
    emailOnly: subscriptions(granularity: $granularity, channel: EMAIL) { channel }
    subscriptionsByGender(channel: EMAIL) { channel gender subscribed unsubscribed unknown }
    identified(granularity: $granularity) { customers identified unidentified points { label from to identified unidentified customers } }
    spendersProspects { day spenders prospects customers }
    activity { day active lowRisk highRisk customers activeDays lowRiskDays }
    spenderSegments { day spenders lowPercentile highPercentile
                      valueLowThreshold { amount currencyCode } valueHighThreshold { amount currencyCode }
                      frequentThreshold small medium big oneTime repeat frequent }
    topTags { tag { name } customers }
  }
}
"""

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def build(session, store):
    """c1 FEMALE email, c2 MALE anonymous (created 15 March), c3 phone, c4 erased (with everything)."""
    b = StoreBuilder(session, store)
    c1 = b.customer(email="c1@example.com", gender="FEMALE")
    c2 = b.customer(gender="MALE", created_at=utc(2026, 3, 15))
    c3 = b.customer(phone="+48500100200")
    c4 = b.customer(email="c4@example.com", erased_at=utc(2026, 3, 1))
    b.consent(c1, "EMAIL", "SUBSCRIBED", utc(2026, 2, 1))
    b.consent(c2, "EMAIL", "UNSUBSCRIBED", utc(2026, 3, 20))
    b.consent(c3, "SMS", "SUBSCRIBED", utc(2026, 3, 5))
    b.consent(c4, "EMAIL", "SUBSCRIBED", utc(2026, 2, 1))
    b.order(c1, "100.00", utc(2026, 2, 10))
    b.order(c3, "20.00", utc(2026, 1, 10))
    b.order(c3, "30.00", utc(2026, 3, 10), "PAID")
    b.order(c4, "500.00", utc(2026, 2, 10))
    b.activity(c1, "VISIT", utc(2026, 3, 30))
    b.tag(c1, "vip", utc(2026, 1, 1))
    b.tag(c2, "vip", utc(2026, 3, 16))
    b.tag(c4, "vip", utc(2026, 1, 1))
    b.tag(c4, "other", utc(2026, 1, 1))
    b.commit()


def test_whole_dashboard_in_one_request(api, session, store):
    build(session, store)
    data = api.data(DASHBOARD, {"range": MARCH, "granularity": "MONTH"}, key=api.key(store, "read"))["dashboard"]
    assert (data["from"], data["to"], data["preset"], data["comparisonDay"]) == ("2026-03-01", "2026-03-31", None, "2026-03-01")
    # End of 31 March: c1 SUBSCRIBED, c2 UNSUBSCRIBED, c3 UNKNOWN on EMAIL; c3 SUBSCRIBED on SMS.
    # End of 1 March: c1 and c3 exist; EMAIL c1 SUBSCRIBED, c3 UNKNOWN; SMS both UNKNOWN.
    kpis = {(k["channel"], k["bucket"]): (k["value"], k["previous"], k["change"], k["relativeChange"])
            for k in data["consentKpis"]}
    assert kpis == {
        ("EMAIL", "SUBSCRIBED"): (1, 1, 0, 0.0), ("EMAIL", "UNSUBSCRIBED"): (1, 0, 1, None),
        ("EMAIL", "UNKNOWN"): (1, 1, 0, 0.0), ("SMS", "SUBSCRIBED"): (1, 0, 1, None),
        ("SMS", "UNSUBSCRIBED"): (0, 0, 0, None), ("SMS", "UNKNOWN"): (2, 2, 0, 0.0),
    }
    assert data["subscriptions"] == [
        {"channel": "EMAIL", "label": "2026-03", "from": "2026-03-01", "to": "2026-03-31",
         "subscribed": 1, "unsubscribed": 1, "unknown": 1, "customers": 3},
        {"channel": "SMS", "label": "2026-03", "from": "2026-03-01", "to": "2026-03-31",
         "subscribed": 1, "unsubscribed": 0, "unknown": 2, "customers": 3},
    ]
    assert data["emailOnly"] == [{"channel": "EMAIL"}]
    by_gender = {row["gender"]: (row["subscribed"], row["unsubscribed"], row["unknown"])
                 for row in data["subscriptionsByGender"]}
    assert by_gender == {"FEMALE": (1, 0, 0), "MALE": (0, 1, 0), "UNKNOWN": (0, 0, 1), "OTHER": (0, 0, 0),
                         "REFUSED": (0, 0, 0)}
    assert data["identified"] == {"customers": 3, "identified": 2, "unidentified": 1, "points": [
        {"label": "2026-03", "from": "2026-03-01", "to": "2026-03-31", "identified": 2, "unidentified": 1,
         "customers": 3}]}
    assert data["spendersProspects"] == {"day": "2026-03-31", "spenders": 2, "prospects": 1, "customers": 3}
    # c1 visited on the 30th (ACTIVE); c3 ordered on the 10th (LOW_RISK); c2 never (HIGH_RISK).
    assert data["activity"] == {"day": "2026-03-31", "active": 1, "lowRisk": 1, "highRisk": 1, "customers": 3,
                                "activeDays": 7, "lowRiskDays": 30}
    # Net revenue 50 (c3, 2 orders) and 100 (c1): 50th = 75, 80th = 50 + 0.8 × 50 = 90.
    # Mean orders of repeat buyers 2 -> threshold max(2, 3) = 3.
    assert data["spenderSegments"] == {
        "day": "2026-03-31", "spenders": 2, "lowPercentile": 50.0, "highPercentile": 80.0,
        "valueLowThreshold": {"amount": "75.00", "currencyCode": store.currency},
        "valueHighThreshold": {"amount": "90.00", "currencyCode": store.currency}, "frequentThreshold": 3,
        "small": 1, "medium": 0, "big": 1, "oneTime": 1, "repeat": 1, "frequent": 0,
    }
    assert [(t["tag"]["name"], t["customers"]) for t in data["topTags"]] == [("vip", 2)]


def test_default_is_last_30_days_of_the_store_today(api, make_store):
    store = make_store(timezone="Pacific/Kiritimati")
    data = api.data("{ dashboard { from to preset spendersProspects { customers } } }", key=api.key(store, "read"))
    today = store_today(store)
    assert data["dashboard"]["to"] == today.isoformat()
    assert data["dashboard"]["from"] == (today - timedelta(days=29)).isoformat()
    assert data["dashboard"]["preset"] == "LAST_30_DAYS"
    assert data["dashboard"]["spendersProspects"]["customers"] == 0


def test_preset_argument(api, store):
    data = api.data("{ dashboard(preset: YESTERDAY) { from to preset } }", key=api.key(store, "read"))["dashboard"]
    assert data["from"] == data["to"] and data["preset"] == "YESTERDAY"


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        ("{ dashboard(range: {from: \"2026-03-10\", to: \"2026-03-01\"}) { to } }", None,
         "`range.from` 2026-03-10 is after `range.to` 2026-03-01"),
        ("{ dashboard(range: {from: \"2026-03-01\", to: \"2026-03-10\"}, preset: TODAY) { to } }", None,
         "Give either `range` or `preset`, not both."),
        ("{ dashboard(range: {from: \"1976-01-01\", to: \"2026-01-01\"}) { to } }", None, "spans more than 10 years"),
        ("{ dashboard(range: {from: \"2016-01-01\", to: \"2025-12-31\"}) { subscriptions(granularity: DAY) { label } } }",
         None, "`granularity` DAY over 3653 days gives 3653 points, more than the limit of 1000"),
        ("{ dashboard(range: {from: \"2016-01-01\", to: \"2025-12-31\"}) { identified { customers } } }",
         None, "more than the limit of 1000"),
    ],
)
def test_bad_input_is_a_clear_error(api, store, query, variables, message):
    body = api.post(query, variables, key=api.key(store, "read"))
    assert body["data"] is None
    [error] = body["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_unknown_preset_is_rejected_by_validation(api, store):
    key = api.key(store, "read")
    literal = api.post("{ dashboard(preset: LAST_3_WEEKS) { to } }", key=key)
    assert "DatePreset" in literal["errors"][0]["message"] and literal.get("data") is None
    variable = api.post("query($p: DatePreset) { dashboard(preset: $p) { to } }", {"p": "LAST_3_WEEKS"}, key=key)
    assert "$p" in variable["errors"][0]["message"] and "DatePreset" in variable["errors"][0]["message"]


def test_ten_years_by_month_is_fine(api, store):
    data = api.data('{ dashboard(range: {from: "2016-01-01", to: "2025-12-31"}) { subscriptions(granularity: MONTH, channel: SMS) { label } } }',
                    key=api.key(store, "read"))
    assert len(data["dashboard"]["subscriptions"]) == 120


def test_requires_a_key(api):
    assert api.error_codes("{ dashboard { to } }") == ["UNAUTHENTICATED"]


def test_consent_widgets_share_one_computation_and_agree_with_the_services(api, session, store):
    from crm_graph.graphql.values import relative_change
    from crm_graph.services.analytics.consent import consent_kpis, subscriptions_over_time
    from crm_graph.services.dates import DateRange, resolve_range

    build(session, store)
    query = """
    fragment Weekly on Dashboard { weekly: subscriptions(granularity: WEEK, channel: EMAIL) { label subscribed unsubscribed unknown } }
    query($g: Granularity!) { dashboard(range: {from: "2026-02-20", to: "2026-03-31"}) {
        ...Weekly
        daily: subscriptions(granularity: $g, channel: SMS) { label subscribed unsubscribed unknown }
        consentKpis { channel bucket value previous change relativeChange }
        identified(granularity: WEEK) { customers points { label identified unidentified } }
        spendersProspects { spenders prospects }
    } }"""
    data = api.data(query, {"g": "DAY"}, key=api.key(store, "read"))["dashboard"]
    r = resolve_range(store, DateRange(date(2026, 2, 20), date(2026, 3, 31)))
    weekly = [p for p in subscriptions_over_time(session, store, r, "WEEK") if p.channel.value == "EMAIL"]
    daily = [p for p in subscriptions_over_time(session, store, r, "DAY") if p.channel.value == "SMS"]
    assert data["weekly"] == [{"label": p.label, "subscribed": p.subscribed, "unsubscribed": p.unsubscribed,
                               "unknown": p.unknown} for p in weekly]
    assert data["daily"] == [{"label": p.label, "subscribed": p.subscribed, "unsubscribed": p.unsubscribed,
                              "unknown": p.unknown} for p in daily]
    assert len(data["daily"]) == 40
    # Hand check of two points: on 4 March c3's SMS consent (5 March) is not there yet, on the 5th it is.
    assert (data["daily"][12]["label"], data["daily"][12]["subscribed"]) == ("2026-03-04", 0)
    assert (data["daily"][13]["label"], data["daily"][13]["subscribed"]) == ("2026-03-05", 1)
    # The identified series and spenders/prospects share one computation too.
    # c1 and c3 from 1 January, c2 (anonymous) from 15 March; c1 and c3 have counted orders.
    assert [(p["label"], p["identified"], p["unidentified"]) for p in data["identified"]["points"]] == [
        ("2026-W08", 2, 0), ("2026-W09", 2, 0), ("2026-W10", 2, 0), ("2026-W11", 2, 1), ("2026-W12", 2, 1),
        ("2026-W13", 2, 1), ("2026-W14", 2, 1)]
    assert data["spendersProspects"] == {"spenders": 2, "prospects": 1}
    kpis = {(k["channel"], k["bucket"]): (k["value"], k["previous"], k["change"], k["relativeChange"])
            for k in data["consentKpis"]}
    assert kpis == {(k.channel.value, k.bucket.value): (k.change.value, k.change.previous,
                                                        k.change.value - k.change.previous,
                                                        relative_change(k.change.value, k.change.previous))
                    for k in consent_kpis(session, store, r)}


def test_value_thresholds_round_up_to_the_cent_on_both_databases(api, session, store):
    """Net 380.50 and 380.53: the 50th percentile is 380.515 and the 80th 380.524, both rounded UP (a
    spender at exactly the threshold belongs to the upper segment). SQLite used to round them to the
    nearest cent first (380.51, 380.52)."""
    b = StoreBuilder(session, store)
    b.order(b.customer(email="a@example.com", created_at=utc(2026, 1, 1)), "380.50", utc(2026, 2, 1))
    b.order(b.customer(email="b@example.com", created_at=utc(2026, 1, 1)), "380.53", utc(2026, 2, 2))
    b.commit()
    query = ("query($range: DateRange) { dashboard(range: $range) { "
             "spenderSegments { valueLowThreshold { amount currencyCode } valueHighThreshold { amount currencyCode } } } }")
    data = api.data(query, {"range": MARCH}, key=api.key(store, "read"))["dashboard"]["spenderSegments"]
    assert (data["valueLowThreshold"], data["valueHighThreshold"]) == (
        {"amount": "380.52", "currencyCode": store.currency}, {"amount": "380.53", "currencyCode": store.currency})


def test_consent_kpis_are_comparisons_like_the_period_kpis(api, session, store):
    """A client reads a KPI card through the `Comparison` interface, as it reads any period figure."""
    build(session, store)
    query = ("query($range: DateRange) { dashboard(range: $range) { consentKpis { __typename channel bucket "
             "... on Comparison { relativeChange } value previous change } } }")
    cards = api.data(query, {"range": MARCH}, key=api.key(store, "read"))["dashboard"]["consentKpis"]
    assert len(cards) == 6 and {card["__typename"] for card in cards} == {"ConsentKpi"}
    for card in cards:
        assert card["change"] == card["value"] - card["previous"]
        assert card["relativeChange"] == (round(card["change"] / card["previous"], 4) if card["previous"] else None)
