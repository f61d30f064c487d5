"""Every analytics answer says how fresh it is (`Freshness`), through GraphQL.

A precomputed store's dashboard of a past range is STORED with the stored rows' `computed_at`; after
a late order dated in the range it is LIVE as of the request (and equal to a never-precomputed twin);
the result cache serves the same `computedAt` within its seconds (saying `cached`) and a new one
after; rfmGrid of a preset after the PRECOMPUTE job is STORED, a custom range LIVE; periodKpis and the
lifecycle fields carry theirs.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crm_graph.models import DailyCustomerCount
from crm_graph.services.lifecycle.clv import fit_clv_models
from tests.conftest import app_client
from tests.factories import ApiClient, StoreBuilder, utc
from tests.graphql.test_fresh_figures import HEADER, MARCH, build, import_file, live_api, precompute  # noqa: F401

FRESHNESS = "freshness { computedAt source fromStoredRows cached }"
DASHBOARD = f"""
query($range: DateRange) {{
  dashboard(range: $range) {{
    {FRESHNESS}
    kpis: freshness(widget: CONSENT_KPIS) {{ computedAt source }}
    tags: freshness(widget: TOP_TAGS) {{ source }}
    consentKpis {{ channel bucket value previous change relativeChange }}
    identified {{ customers identified {FRESHNESS} }}
    spendersProspects {{ spenders prospects {FRESHNESS} }}
    activity {{ active lowRisk highRisk {FRESHNESS} }}
    spenderSegments {{ spenders valueLowThreshold {{ amount currencyCode }} valueHighThreshold {{ amount currencyCode }}
                       small medium big {FRESHNESS} }}
  }}
}}"""
GRID = f"""query($range: DateRange, $preset: DatePreset) {{
  rfmGrid(range: $range, preset: $preset) {{ customers computedAt {FRESHNESS} }} }}"""
KPIS = f"query($range: DateRange) {{ periodKpis(range: $range) {{ customers {{ value }} {FRESHNESS} }} }}"
LIFECYCLE = f"""query($range: DateRange) {{
  lifecycleStages(range: $range, granularity: MONTH) {{ buyers {FRESHNESS} }}
  purchaseRhythm(range: $range) {{ gaps {FRESHNESS} }}
  cohorts(range: $range) {{ size {FRESHNESS} }}
  clvModel {{ fittedAt {FRESHNESS} }}
}}"""
WIDGETS = ("identified", "spendersProspects", "activity", "spenderSegments")


def instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def stored_computed_at(engine, store) -> datetime:
    """When the oldest stored day of March was computed."""
    with Session(engine) as session:
        value = session.exec(select(func.min(DailyCustomerCount.computed_at)).where(
            DailyCustomerCount.store_id == store.id)).one()
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def figures(dashboard: dict) -> dict:
    """The dashboard without its freshness."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("freshness", "kpis", "tags")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(dashboard)


def test_a_stored_dashboard_says_so_and_a_late_order_makes_it_live(live_api, engine, make_store, tmp_path):
    api = live_api
    stored_store, live_store = make_store(timezone="Europe/Warsaw"), make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        for store in (stored_store, live_store):
            build(session, store)
    key, twin = api.key(stored_store, "admin"), api.key(live_store, "admin")

    before = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert before["freshness"]["source"] == "LIVE" and not before["freshness"]["fromStoredRows"]

    precompute(api, engine, key, "2026-03-01", "2026-03-31")
    stored_at = stored_computed_at(engine, stored_store)
    stored = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert stored["freshness"] == {"computedAt": stored["freshness"]["computedAt"], "source": "STORED",
                                   "fromStoredRows": True, "cached": False}
    assert instant(stored["freshness"]["computedAt"]) == stored_at
    assert stored["kpis"] == {"computedAt": stored["freshness"]["computedAt"], "source": "STORED"}
    for widget in WIDGETS:
        assert stored[widget]["freshness"]["source"] == "STORED", widget
        assert instant(stored[widget]["freshness"]["computedAt"]) >= stored_at, widget
    assert figures(stored) == figures(api.data(DASHBOARD, {"range": MARCH}, key=twin)["dashboard"])

    for store in (stored_store, live_store):  # a late order of 10 March, by CSV
        import_file(engine, store, tmp_path, "orders",
                    HEADER + "L1;2026-03-10T12:00:00Z;paid;99.00;ann@example.com;PLN;;;1;p1;1;99.00\n")
    asked = datetime.now(timezone.utc)
    late = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert late["freshness"]["source"] == "LIVE" and late["freshness"]["cached"] is False
    assert instant(late["freshness"]["computedAt"]) > stored_at
    assert instant(late["freshness"]["computedAt"]) >= asked.replace(microsecond=0)
    for widget in WIDGETS:
        assert late[widget]["freshness"]["source"] == "LIVE", widget
    assert figures(late) == figures(api.data(DASHBOARD, {"range": MARCH}, key=twin)["dashboard"])
    assert figures(late) != figures(stored)


@pytest.fixture
def cached_api(engine, db_url):
    """The app with a 1-second result cache."""
    from crm_graph.settings import Settings

    with app_client(Settings(database_url=db_url, dashboard_cache_seconds=1, _env_file=None)) as client:
        yield ApiClient(client, engine)


def test_a_cached_answer_keeps_when_it_was_computed_and_expires_after_the_cache_seconds(cached_api, engine, store):
    api = cached_api
    with Session(engine, expire_on_commit=False) as session:
        StoreBuilder(session, store).customer(email="anna@example.com", created_at=utc(2026, 3, 2))
        session.commit()
    key = api.key(store, "read")
    first = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert first["freshness"]["source"] == "LIVE" and first["freshness"]["cached"] is False
    again = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert again["freshness"]["computedAt"] == first["freshness"]["computedAt"]
    assert again["freshness"]["cached"] is True
    assert again["activity"]["freshness"] == {**first["activity"]["freshness"], "cached": True}
    time.sleep(1.1)
    later = api.data(DASHBOARD, {"range": MARCH}, key=key)["dashboard"]
    assert later["freshness"]["cached"] is False
    gap = instant(later["freshness"]["computedAt"]) - instant(first["freshness"]["computedAt"])
    assert gap.total_seconds() >= 1


def test_rfm_grid_of_a_precomputed_preset_is_stored_and_a_custom_range_live(live_api, engine, make_store):
    api = live_api
    store = make_store(timezone="Europe/Warsaw")
    with Session(engine, expire_on_commit=False) as session:
        build(session, store)
    key = api.key(store, "admin")
    precompute(api, engine, key, "2026-03-31", "2026-03-31")
    grid = api.data(GRID, {"range": {"from": "2026-03-02", "to": "2026-03-31"}}, key=key)["rfmGrid"]
    assert grid["freshness"]["source"] == "STORED" and grid["freshness"]["fromStoredRows"]
    assert instant(grid["freshness"]["computedAt"]) == instant(grid["computedAt"])
    asked = datetime.now(timezone.utc).replace(microsecond=0)
    custom = api.data(GRID, {"range": {"from": "2026-03-03", "to": "2026-03-31"}}, key=key)["rfmGrid"]
    assert custom["computedAt"] is None
    assert custom["freshness"]["source"] == "LIVE" and not custom["freshness"]["fromStoredRows"]
    assert instant(custom["freshness"]["computedAt"]) >= asked
    assert instant(custom["freshness"]["computedAt"]) > instant(grid["freshness"]["computedAt"])


def test_period_kpis_and_lifecycle_fields_carry_their_freshness(live_api, engine, make_store):
    api = live_api
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        build(session, store)
    key = api.key(store, "admin")
    asked = datetime.now(timezone.utc).replace(microsecond=0)
    kpis = api.data(KPIS, {"range": MARCH}, key=key)["periodKpis"]
    assert kpis["freshness"]["source"] == "LIVE" and instant(kpis["freshness"]["computedAt"]) >= asked
    data = api.data(LIFECYCLE, {"range": MARCH}, key=key)
    for row in data["lifecycleStages"] + data["cohorts"] + [data["purchaseRhythm"]]:
        assert row["freshness"]["source"] == "LIVE" and instant(row["freshness"]["computedAt"]) >= asked
    assert data["clvModel"] is None  # never fitted
    fit_clv_models(engine, store, cutoff=date(2026, 3, 31))
    model = api.data(LIFECYCLE, {"range": MARCH}, key=key)["clvModel"]
    assert model["freshness"]["source"] == "STORED" and model["freshness"]["fromStoredRows"]
    assert instant(model["freshness"]["computedAt"]) == instant(model["fittedAt"])
