"""The reference dashboard in a real browser (Debian's Chromium through Playwright), on the real
`crm-graph demo` on SQLite and on PostgreSQL: every widget shows the API's numbers for the same range,
money in its currency, the range and a granularity change, an RFM cell opens its customers, pages
follow the API's cursors both ways, a search leads to a Customer 360, an export job runs to completion,
a mutation's input error shows in place, GraphiQL works from the vendored files, a refused key asks for a
new one, and no page ever asks for anything outside 127.0.0.1 or logs an error (a CSP violation is
one). Each screen is saved as a screenshot."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from tests.web.browser import (Page, demo_server, free_port, launch_chromium, production_server, require_browser,
                               screenshot_dir)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory, browser):
    """`crm-graph demo` with a small demo store on a fresh database of each backend."""
    workdir = tmp_path_factory.mktemp(f"demo-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'demo.db'}"
    else:
        url = create_postgres_database("crm_graph_web")
    try:
        # connectors may reach this machine, so a sync can fail for real (nothing listens there)
        with demo_server(url, workdir, CRM_GRAPH_ALLOW_PRIVATE_CONNECTOR_URLS="true") as running:
            running.backend, running.database_url, running.workdir = request.param, url, workdir
            yield running
    finally:
        if request.param == "postgresql":
            drop_postgres_database(url)


@pytest.fixture
def page(browser, server, tmp_path_factory):
    opened = Page(browser, server, screenshot_dir(tmp_path_factory, server.backend))
    yield opened
    errors = opened.errors
    opened.close()  # asserts that nothing left 127.0.0.1
    assert errors == [], f"the page logged errors: {errors}"


def _rows(page, testid: str) -> list[list[str]]:
    return page.eval_on_selector_all(f'[data-testid="{testid}"] tbody tr',
                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")


def _value(page, testid: str) -> str:
    return page.get_attribute(f'[data-testid="{testid}"]', "data-value")


def _wait_for_range(page, server, preset: str) -> None:
    answer = server.data("query($p: DatePreset) { dashboard(preset: $p) { from to } }", {"p": preset})["dashboard"]
    page.wait_for_function("text => document.getElementById('range-shown').textContent === text",
                           arg=f"{answer['from']} – {answer['to']}")


DASHBOARD = """query($p: DatePreset, $g: Granularity!) {
  store { currencyCode }
  dashboard(preset: $p) {
    consentKpis { channel bucket value change }
    subscriptions(granularity: $g, channel: EMAIL) { label subscribed unsubscribed unknown }
    subscriptionsByGender(channel: EMAIL) { gender subscribed unsubscribed unknown }
    identified(granularity: DAY) { customers identified unidentified points { label identified unidentified } }
    spendersProspects { spenders prospects customers }
    activity { active lowRisk highRisk }
    spenderSegments { small medium big oneTime repeat frequent }
    topTags { tag { name } customers }
  }
  rfmGrid(preset: $p) { revenue { amount currencyCode } cells { r fm customers } }
}"""


def _check_dashboard(page, server, preset: str, granularity: str = "DAY") -> None:
    """Every widget of the dashboard screen against the API's answer for the same range."""
    d = server.data(DASHBOARD, {"p": preset, "g": granularity})
    dash = d["dashboard"]
    for kpi in dash["consentKpis"]:
        card = f'kpi-{kpi["channel"]}-{kpi["bucket"]}'
        assert int(_value(page, card)) == kpi["value"], card
        assert int(page.get_attribute(f'[data-testid="{card}"]', "data-change")) == kpi["change"], card
    assert _rows(page, "subscriptions-table") == [
        [p["label"], str(p["subscribed"]), str(p["unsubscribed"]), str(p["unknown"])] for p in dash["subscriptions"]]
    assert _rows(page, "gender-table") == [
        [r["gender"], str(r["subscribed"]), str(r["unsubscribed"]), str(r["unknown"])] for r in dash["subscriptionsByGender"]]
    ident = dash["identified"]
    assert [int(_value(page, f"identified-{k}")) for k in ("customers", "identified", "unidentified")] == \
        [ident["customers"], ident["identified"], ident["unidentified"]]
    assert [row[:3] for row in _rows(page, "identified-table")] == [
        [p["label"], str(p["identified"]), str(p["unidentified"])] for p in ident["points"]]
    sp = dash["spendersProspects"]
    assert (int(_value(page, "spenders")), int(_value(page, "prospects")), int(_value(page, "sp-customers"))) == \
        (sp["spenders"], sp["prospects"], sp["customers"])
    act = dash["activity"]
    assert (int(_value(page, "activity-active")), int(_value(page, "activity-low")), int(_value(page, "activity-high"))) == \
        (act["active"], act["lowRisk"], act["highRisk"])
    seg = dash["spenderSegments"]
    assert [int(_value(page, f"segment-{k}")) for k in ("small", "medium", "big")] == [seg["small"], seg["medium"], seg["big"]]
    tags = page.eval_on_selector_all('[data-testid="top-tags"] li', "items => items.map(i => [i.querySelector('button').textContent, Number(i.dataset.value)])")
    assert tags == [[t["tag"]["name"], t["customers"]] for t in dash["topTags"][:10]]
    for cell in d["rfmGrid"]["cells"]:
        assert int(_value(page, f'rfm-{cell["r"]}-{cell["fm"]}')) == cell["customers"]
    if d["rfmGrid"]["cells"]:  # revenue across orders: money in the store's currency, as the API gives it
        revenue = d["rfmGrid"]["revenue"]
        assert revenue["currencyCode"] == d["store"]["currencyCode"]
        assert (_value(page, "rfm-revenue"), page.get_attribute('[data-testid="rfm-revenue"]', "data-currency")) == \
            (revenue["amount"], revenue["currencyCode"])
    # the frequency tab of the spender segments, reached with the keyboard
    page.focus('[data-widget="spender-segments"] [role="tab"][data-value="value"]')
    page.keyboard.press("ArrowRight")
    assert [int(_value(page, f"segment-{k}")) for k in ("one-time", "repeat", "frequent")] == \
        [seg["oneTime"], seg["repeat"], seg["frequent"]]
    assert page.locator('[data-widget="rfm"] [data-fresh]').inner_text().startswith("Computed")


def test_demo_prints_the_dashboard_first_and_graphiql_second(server):
    urls = [line.split()[0].rstrip(":") for line in server.lines if line.startswith(("Dashboard:", "GraphiQL:"))]
    assert urls == ["Dashboard", "GraphiQL"]
    assert any(f"{server.base}/" in line for line in server.lines if line.startswith("Dashboard:"))


def test_dashboard_widgets_equal_the_api_and_follow_range_and_granularity(page, server):
    p = page.open("/")
    p.wait_for_selector('[data-widget="rfm"]')
    _wait_for_range(p, server, "LAST_30_DAYS")
    _check_dashboard(p, server, "LAST_30_DAYS")
    page.shot("dashboard")

    p.select_option("#preset", "LAST_90_DAYS")
    _wait_for_range(p, server, "LAST_90_DAYS")
    p.click('[data-widget="subscriptions"] [aria-label="Granularity"] button[data-value="WEEK"]')
    p.wait_for_selector('[data-widget="subscriptions"] button[data-value="WEEK"][aria-pressed="true"]')
    p.wait_for_selector('[data-widget="rfm"]')
    _check_dashboard(p, server, "LAST_90_DAYS", granularity="WEEK")


def test_custom_range(page, server):
    p = page.open("/")
    p.wait_for_selector('[data-widget="rfm"]')
    answer = server.data("{ dashboard(preset: LAST_7_DAYS) { from to } }")["dashboard"]
    p.select_option("#preset", "CUSTOM")
    p.fill("#range-from", answer["from"])
    p.fill("#range-to", answer["to"])
    p.click("#range-apply")
    p.wait_for_function("text => document.getElementById('range-shown').textContent === text",
                        arg=f"{answer['from']} – {answer['to']}")
    kpis = server.data("query($r: DateRange) { dashboard(range: $r) { spendersProspects { spenders } } }",
                       {"r": answer})["dashboard"]
    p.wait_for_selector('[data-testid="spenders"]')
    assert int(_value(p, "spenders")) == kpis["spendersProspects"]["spenders"]


def test_rfm_cell_opens_its_customers_with_the_keyboard(page, server):
    grid = server.data("{ rfmGrid(preset: LAST_90_DAYS) { scheme cells { r fm customers } } }")["rfmGrid"]
    cell = max((c for c in grid["cells"] if c["fm"] > 1), key=lambda c: c["customers"])
    p = page.open("/#/dashboard?preset=LAST_90_DAYS")
    p.wait_for_selector('[data-widget="rfm"]')
    p.focus(f'[data-testid="rfm-{cell["r"]}-{cell["fm"]}"]')
    p.keyboard.press("ArrowLeft")
    assert p.evaluate("document.activeElement.dataset.fm") == str(cell["fm"] - 1)
    p.keyboard.press("ArrowRight")
    p.keyboard.press("Enter")
    p.wait_for_selector('[data-testid="filter-chips"]')
    p.wait_for_selector('[data-testid="total-count"]')
    expected = server.data("query($f: CustomerFilter) { customers(filter: $f, first: 1) { totalCount } }", {"f": {
        "rfm": {"cells": [{"r": cell["r"], "fm": cell["fm"]}], "preset": "LAST_90_DAYS", "scheme": grid["scheme"]}}})
    assert int(_value(p, "total-count")) == expected["customers"]["totalCount"] == cell["customers"]
    page.shot("rfm-cell-customers")


def test_customers_screen_search_facets_and_customer_360(page, server):
    p = page.open("/#/customers")
    p.wait_for_selector('[data-testid="customer-table"]')
    kpis = server.data("""{ store { currencyCode }
        periodKpis { customers { value } newCustomers { value previous } returningCustomers { value previous }
        lostCustomers { value previous } orders { value } netRevenue { value { amount currencyCode } } }
        customers(first: 1) { totalCount } }""")
    k = kpis["periodKpis"]
    assert int(_value(p, "period-customers")) == k["customers"]["value"]
    assert int(_value(p, "period-orders")) == k["orders"]["value"]
    revenue = k["netRevenue"]["value"]
    assert _value(p, "period-revenue") == (revenue["amount"] if revenue else "")
    if revenue:
        assert p.get_attribute('[data-testid="period-revenue"]', "data-currency") == revenue["currencyCode"] == \
            kpis["store"]["currencyCode"]
    assert _rows(p, "nrl-table") == [[name, str(k[field]["value"]), str(k[field]["previous"])] for name, field in
                                     (("New", "newCustomers"), ("Returning", "returningCustomers"), ("Lost", "lostCustomers"))]
    assert int(_value(p, "total-count")) == kpis["customers"]["totalCount"]
    page.shot("customers")

    # pages follow the API's cursors, sorted as asked: Next pages forward, Previous backward (before
    # the first row shown) back to the first page, where Previous is off
    by_spend = server.data("""{ customers(first: 50, sort: TOTAL_SPENT, direction: DESC) { nodes { id } } }""")
    ids = [node["id"] for node in by_spend["customers"]["nodes"]]
    assert len(ids) == 50
    p.select_option('select[aria-label="Sort by"]', "TOTAL_SPENT")
    p.wait_for_function("() => location.hash.includes('sort=TOTAL_SPENT')")
    p.wait_for_selector('[data-testid="customer-table"]')
    table_ids = "() => [...document.querySelectorAll('[data-testid=customer-table] tbody tr')].map(r => r.dataset.id)"
    p.wait_for_function(f"ids => JSON.stringify(({table_ids})()) === JSON.stringify(ids)", arg=ids[:25])
    p.click('[data-testid="next-page"]')
    p.wait_for_function(f"ids => JSON.stringify(({table_ids})()) === JSON.stringify(ids)", arg=ids[25:50])
    assert p.is_enabled('[data-testid="previous-page"]')
    p.click('[data-testid="previous-page"]')
    p.wait_for_function("() => location.hash.includes('before=')")
    p.wait_for_function(f"ids => JSON.stringify(({table_ids})()) === JSON.stringify(ids)", arg=ids[:25])
    assert p.is_disabled('[data-testid="previous-page"]') and p.is_enabled('[data-testid="next-page"]')
    p.click('[data-testid="next-page"]')
    p.wait_for_function(f"ids => JSON.stringify(({table_ids})()) === JSON.stringify(ids)", arg=ids[25:50])

    # a facet value filters the list
    country = p.get_attribute('[data-facet="country"] input[type="checkbox"]', "value")
    p.check(f'[data-facet="country"] input[value="{country}"]')
    counted = server.data("query($c: [String!]) { customers(filter: {countries: $c}, first: 1) { totalCount } }", {"c": [country]})
    p.wait_for_function("n => document.querySelector('[data-testid=total-count]')?.dataset.value === n",
                        arg=str(counted["customers"]["totalCount"]))

    # search, then the customer's 360
    target = server.data("""{ customers(first: 1, sort: TOTAL_SPENT, filter: {identified: true}) { nodes { id email
        firstName lastName revenue { netRevenue { amount currencyCode } } orders(first: 10) { nodes { total { amount currencyCode } } } } } }""")["customers"]["nodes"][0]
    p.goto(server.base + "/#/customers")
    p.wait_for_selector('[data-testid="search"]')
    p.fill('[data-testid="search"]', target["email"])
    p.press('[data-testid="search"]', "Enter")
    p.wait_for_function("() => document.querySelector('[data-testid=total-count]')?.dataset.value === '1'")
    p.click(f'[data-testid="customer-table"] tr[data-id="{target["id"]}"] a')
    p.wait_for_selector('[data-testid="customer-360"]')
    net = target["revenue"]["netRevenue"]
    assert (p.get_attribute('[data-testid="net-revenue"]', "data-value"),
            p.get_attribute('[data-testid="net-revenue"]', "data-currency")) == (net["amount"], net["currencyCode"])
    # each order's total in the order's own currency
    assert p.eval_on_selector_all('[data-testid="order-total"]', "cells => cells.map(c => [c.dataset.value, c.dataset.currency])") == \
        [[o["total"]["amount"], o["total"]["currencyCode"]] for o in target["orders"]["nodes"]]
    name = " ".join(x for x in (target["firstName"], target["lastName"]) if x) or target["email"]
    assert p.inner_text('[data-testid="customer-name"]') == name
    assert target["id"] in p.inner_text('[data-widget="profile"]')  # the global id, as the API gives it
    page.shot("customer-360")


def test_export_job_runs_to_completion_and_erase_asks_first(page, server):
    country = server.data("{ customers(first: 1) { facets { countries(limit: 1) { value } } } }")["customers"]["facets"]["countries"][0]["value"]
    total = server.data("query($c: [String!]) { customers(filter: {countries: $c}, first: 1) { totalCount } }", {"c": [country]})
    p = page.open(f"/#/customers?country={country}")
    p.wait_for_selector('[data-testid="customer-table"]')
    p.click('[data-testid="export"]')
    p.wait_for_selector('[data-testid="jobs"] li[data-status="SUCCEEDED"] [data-testid="download"]', timeout=120_000)
    link = p.get_attribute('[data-testid="jobs"] li[data-status="SUCCEEDED"] [data-testid="download"]', "href")
    exported = list(csv.reader(io.StringIO(server.client.get(link).text)))
    assert len(exported) - 1 == total["customers"]["totalCount"]
    page.shot("export-job")

    # erasing asks for confirmation; Cancel changes nothing
    first_id = p.eval_on_selector_all('[data-testid="customer-table"] tbody tr',
                                      "rows => rows.find(r => r.cells[3].textContent.includes('@')).dataset.id")
    p.check(f'[data-testid="customer-table"] tr[data-id="{first_id}"] input[type="checkbox"]')
    p.click('[data-testid="erase"]')
    p.wait_for_selector("#confirm-dialog[open]")
    assert "cannot be undone" in p.inner_text("#confirm-text")
    p.click("#confirm-no")
    assert server.data("query($id: ID!) { customer(id: $id) { email } }", {"id": first_id})["customer"]["email"]


def test_lifecycle_screen_matches_the_api(page, server):
    job = server.data("mutation { clvFitStart { __typename ... on Job { id } ... on UserError { message } } }")["clvFitStart"]
    assert job["__typename"] == "Job", job
    assert server.wait_for_job(job["id"])["status"] == "SUCCEEDED"
    p = page.open("/#/lifecycle?preset=LAST_90_DAYS")
    p.wait_for_selector('[data-testid="stages-table"]')
    p.wait_for_selector('[data-widget="pairs"] table, [data-widget="pairs"] .state.empty')
    stages = server.data("""{ lifecycleStages(preset: LAST_90_DAYS, granularity: WEEK) { label active new reactivated atRisk churned }
        cohorts(preset: LAST_90_DAYS) { label size } }""")
    assert _rows(p, "stages-table") == [[s["label"], *(str(s[k]) for k in ("active", "new", "reactivated", "atRisk", "churned"))]
                                        for s in stages["lifecycleStages"]]
    assert [row[0] for row in p.eval_on_selector_all('[data-testid="cohort-table"] tbody tr',
                                                     "rows => rows.map(r => [r.cells[0].textContent])")] == \
        [c["label"] for c in stages["cohorts"]]
    bounds = [0, 0.2, 0.4, 0.6, 0.8, 1]
    expected = []
    for low, high in zip(bounds, bounds[1:]):
        f = {"pAliveMin": low} if high == 1 else {"pAliveMin": low, "pAliveMax": high - 1e-12}
        expected.append(server.data("query($f: CustomerFilter) { customers(filter: $f, first: 1) { totalCount } }", {"f": f})
                        ["customers"]["totalCount"])
    assert [int(row[1]) for row in _rows(p, "palive-table")] == expected
    assert sum(expected) > 0
    # predicted 12-month value bands: [0, 50), [50, 100), ..., 1000 and more
    values = [0, 50, 100, 250, 500, 1000]
    expected = []
    for low, high in zip(values, [*values[1:], None]):
        f = {"predictedValueMin": str(low)} if high is None else \
            {"predictedValueMin": str(low), "predictedValueMax": f"{high - 0.01:.2f}"}
        expected.append(server.data("query($f: CustomerFilter) { customers(filter: $f, first: 1) { totalCount } }", {"f": f})
                        ["customers"]["totalCount"])
    assert [int(row[1].replace(",", "")) for row in _rows(p, "clv-table")] == expected
    assert sum(expected) > 0
    page.shot("lifecycle")


def test_graphiql_works_from_the_vendored_files(page, server):
    p = page.open("/graphql")
    p.wait_for_function("() => document.body.innerText.includes('dashboard(preset')")
    p.click(".graphiql-execute-button")
    p.wait_for_function("() => document.querySelector('.result-window')?.innerText.includes('consentKpis')", timeout=60_000)
    page.shot("graphiql")


def test_a_refused_key_asks_for_a_valid_one(page, server):
    page.context.add_init_script("sessionStorage.setItem('crm-graph-api-key', 'crm_' + 'x'.repeat(43))")
    p = page.open("/")
    p.wait_for_selector("#key-dialog[open] #key-error:not([hidden])")
    assert "refused" in p.inner_text("#key-error")
    page.shot("api-key")
    p.fill("#key-input", server.key)
    p.press("#key-input", "Enter")
    p.wait_for_selector('[data-widget="rfm"]')
    assert p.evaluate("sessionStorage.getItem('crm-graph-api-key')") == server.key


def test_readable_at_phone_width(browser, server, tmp_path_factory):
    phone = Page(browser, server, screenshot_dir(tmp_path_factory, server.backend), width=390, height=844)
    try:
        p = phone.open("/")
        p.wait_for_selector('[data-widget="rfm"]')
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        phone.shot("dashboard-phone")
        assert phone.errors == []
    finally:
        phone.close()


def test_production_asks_for_a_key_and_keeps_it_only_for_the_session(browser, server, tmp_path_factory):
    shots = screenshot_dir(tmp_path_factory, server.backend)
    with production_server(server.database_url, server.workdir) as base:
        first = Page(browser, server, shots, base=base)
        try:
            p = first.open("/")
            p.wait_for_selector("#key-dialog[open]")
            assert p.is_hidden("#key-error") and p.is_hidden("#graphiql-link")  # no GraphiQL in production
            p.fill("#key-input", "crm_" + "y" * 43)
            p.press("#key-input", "Enter")
            p.wait_for_selector("#key-dialog[open] #key-error:not([hidden])")
            assert "refused" in p.inner_text("#key-error")
            p.fill("#key-input", server.key)
            p.press("#key-input", "Enter")
            p.wait_for_selector('[data-widget="rfm"]')
            p.reload()  # the same tab keeps the key
            p.wait_for_selector('[data-widget="rfm"]')
            assert p.is_hidden("#key-dialog")
            assert p.evaluate("localStorage.length") == 0
            assert first.errors == []
        finally:
            first.close()
        second = Page(browser, server, shots, base=base)  # a new session asks again
        try:
            second.open("/").wait_for_selector("#key-dialog[open]")
        finally:
            second.close()


def test_a_slow_request_says_so_and_a_failed_one_can_be_retried(browser, server, tmp_path_factory):
    """The loading state tells a slow answer apart, and a request that fails in the network shows the
    error in place with a Retry that loads the screen once the network is back."""
    opened = Page(browser, server, screenshot_dir(tmp_path_factory, server.backend))
    try:
        p = opened.page

        def slow(route):
            time.sleep(4)
            route.continue_()

        p.route("**/graphql", slow)
        opened.open("/")
        p.wait_for_selector("main[aria-busy=true] .state.loading >> text=taking longer than usual")
        p.wait_for_selector('[data-widget="rfm"]', timeout=60_000)
        assert p.get_attribute("main", "aria-busy") is None
        p.unroute("**/graphql")

        p.route("**/graphql", lambda route: route.abort("connectionrefused"))
        p.goto(server.base + "/#/customers")
        p.wait_for_selector('.state.error[role="alert"] button:text("Retry")')
        opened.shot("request-failed")
        p.unroute("**/graphql")
        p.click('.state.error[role="alert"] button:text("Retry")')
        p.wait_for_selector('[data-testid="customer-table"]')
        # the refused request is the only error the page reports
        assert [e for e in opened.errors if "net::ERR_CONNECTION_REFUSED" not in e] == []
    finally:
        opened.close()


def test_a_failed_job_shows_its_reason(page, server):
    """A background job that fails for real (a sync of a shop that does not answer) is listed as
    failed, with the reason the API gives."""
    nobody = free_port()  # nothing listens there
    registered = server.data("""mutation($s: JSON!) { connectorRegister(connector: "woocommerce", settings: $s) {
        __typename ... on Connector { connector } ... on UserError { message } } }""",
                             {"s": {"url": f"http://127.0.0.1:{nobody}", "consumer_key": "ck_x", "consumer_secret": "cs_x",
                                    "max_retries": 0, "retry_backoff": 0, "timeout": 2}})["connectorRegister"]
    assert registered == {"__typename": "Connector", "connector": "woocommerce"}, registered
    started = server.data("""mutation { connectorSync(connector: "woocommerce") {
        __typename ... on Job { id } ... on UserError { message } } }""")["connectorSync"]
    assert started["__typename"] == "Job", started
    done = server.wait_for_job(started["id"])
    assert done["status"] == "FAILED" and "could not reach" in done["error"], done
    p = page.open("/#/customers")
    item = f'[data-testid="jobs"] li[data-job="{started["id"]}"]'
    p.wait_for_selector(item)
    assert p.get_attribute(item, "data-status") == "FAILED"
    assert p.inner_text(f"{item} .error") == done["error"]
    assert p.inner_text(f"{item} .status-FAILED") == "Failed"
    page.shot("jobs")


def test_bulk_consent_and_a_saved_segment(page, server):
    """Set a consent for the selected customers, and save the current filter as a segment: both
    through the API, as the store then reads them. A name already taken, and an export of a segment
    deleted meanwhile, show the API's typed errors in place and change nothing."""
    country = server.data("{ customers(first: 1) { facets { countries(limit: 1) { value } } } }")["customers"]["facets"]["countries"][0]["value"]
    p = page.open(f"/#/customers?country={country}")
    p.wait_for_selector('[data-testid="customer-table"]')
    ids = p.eval_on_selector_all('[data-testid="customer-table"] tbody tr', "rows => rows.slice(0, 2).map(r => r.dataset.id)")
    for customer_id in ids:
        p.check(f'[data-testid="customer-table"] tr[data-id="{customer_id}"] input[type="checkbox"]')
    p.select_option('select[aria-label="Consent channel"]', "SMS")
    p.select_option('select[aria-label="Consent state"]', "SUBSCRIBED")
    p.click("button:text('Set consent')")
    p.wait_for_selector(".toast >> text=Consent set for 2 customers")
    for customer_id in ids:
        consents = server.data("query($id: ID!) { customer(id: $id) { consents { channel state } } }",
                               {"id": customer_id})["customer"]["consents"]
        assert {c["channel"]: c["state"] for c in consents}["SMS"] == "SUBSCRIBED", customer_id

    name = f"Customers in {country}"
    p.fill('input[aria-label="Name of the new segment"]', name)
    p.click("button:text('Save filter as segment')")
    p.wait_for_selector(f".toast >> text=Segment “{name}” saved.")
    saved = [s for s in server.data("{ segments(first: 100) { nodes { id name } } }")["segments"]["nodes"] if s["name"] == name]
    assert len(saved) == 1
    p.wait_for_function("id => location.hash.includes('segment=' + id)", arg=saved[0]["id"])
    p.wait_for_selector(f'[data-testid="segment-{saved[0]["id"]}"]')
    counted = server.data("query($c: [String!]) { customers(filter: {countries: $c}, first: 1) { totalCount } }", {"c": [country]})
    p.wait_for_function("n => document.querySelector('[data-testid=total-count]')?.dataset.value === n",
                        arg=str(counted["customers"]["totalCount"]))

    # the same name again: the API's ConflictError shows in place, on the name, and nothing is saved
    p.fill('input[aria-label="Name of the new segment"]', name)
    p.click("button:text('Save filter as segment')")
    p.wait_for_selector('[data-testid="segment-error"]:not([hidden])')
    assert "already has a segment named" in p.inner_text('[data-testid="segment-error"]')
    assert p.get_attribute('input[aria-label="Name of the new segment"]', "aria-invalid") == "true"
    assert [s for s in server.data("{ segments(first: 100) { nodes { name } } }")["segments"]["nodes"]
            if s["name"] == name] == [{"name": name}]

    # the segment deleted meanwhile (by another user): an export of the screen's filter gets the API's
    # NotFoundError, shown in place next to the bulk actions, and no job starts
    segment_id = saved[0]["id"]
    deleted = server.data("mutation($id: ID!) { segmentDelete(id: $id) { __typename } }", {"id": segment_id})
    assert deleted["segmentDelete"]["__typename"] == "DeletedSegment"
    jobs_before = server.data("{ jobs(first: 1) { totalCount } }")["jobs"]["totalCount"]
    expected = server.data("""mutation($f: CustomerFilter) { customersExport(filter: $f) { __typename
        ... on UserError { code message field } } }""",
                           {"f": {"countries": [country], "segmentId": segment_id}})["customersExport"]
    assert expected["__typename"] == "NotFoundError" and expected["field"][-1] == "segmentId", expected
    p.click('[data-testid="export"]')
    p.wait_for_selector('[data-testid="bulk-error"]:not([hidden])')
    assert p.inner_text('[data-testid="bulk-error"]') == f"Export failed: {expected['message']}"
    assert server.data("{ jobs(first: 1) { totalCount } }")["jobs"]["totalCount"] == jobs_before
