"""Stored figures are never served stale (docs/analytics.md), through the public paths.

Two stores get the same data and the same changes; only the first is precomputed, by the real
PRECOMPUTE job (`precomputeStart`, the in-process workers). The second has no stored rows, so its
answers are the live computation. After each change dated inside the precomputed days (late orders
and a refund by CSV, a refund of an old order, consent and tags by CSV, an activity from a connector
batch, a customer's gender and an erasure by GraphQL), every dashboard widget, the RFM grid of each
preset and the period KPIs of the first store equal the second's, both before the workers have
recomputed (the stored rows are invalid at once) and after (they are used again).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crm_graph.connectors.records import ActivityRecord, CustomerRef
from crm_graph.graphql.relay import global_id
from crm_graph.graphql.relay import node_row_id
from crm_graph.models import AnalyticsInvalidation, Customer, DailyCustomerCount, DailyRfmCell, Job
from crm_graph.models.enums import ActivityKind
from crm_graph.services.csv_import import import_csv
from crm_graph.services.dates import store_today
from crm_graph.services.ingest import ingest_records
from tests.conftest import app_client
from tests.factories import ApiClient, StoreBuilder, utc
from tests.graphql.test_dashboard import DASHBOARD
from tests.graphql.test_rfm_period import GRID, KPIS
from tests.workers.conftest import wait_for_job
from workers.scheduler import stale_recompute

START = """mutation($first: Date!, $last: Date!) { precomputeStart(firstDay: $first, lastDay: $last) { ... on Job { id } } }"""
UPDATE = """mutation($id: ID!, $gender: Gender!) { customerUpdate(id: $id, input: {gender: $gender}) { __typename } }"""
ERASE = """mutation($id: ID!) { customersErase(ids: [$id]) { __typename ... on BulkChange { changed } } }"""

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
#: The precomputed presets ending on 31 March, as explicit ranges (LAST_90_DAYS and YEAR_TO_DATE are
#: the same days then).
PRESET_RANGES = {
    "LAST_7_DAYS": {"from": "2026-03-25", "to": "2026-03-31"},
    "LAST_30_DAYS": {"from": "2026-03-02", "to": "2026-03-31"},
    "LAST_90_DAYS": {"from": "2026-01-01", "to": "2026-03-31"},
    "LAST_365_DAYS": {"from": "2025-04-01", "to": "2026-03-31"},
}
#: Ends two days after the newest precomputed day: brought forward from it.
LATER = {"from": "2026-03-04", "to": "2026-04-02"}

HEADER = ("order_id;placed_at;status;total;email;currency;refund_amount;refunded_at;line_id;product_id;quantity;"
          "unit_price\n")


@pytest.fixture
def live_api(engine, db_url):
    """The app with its result cache off, so that every answer reflects the database."""
    from crm_graph.settings import Settings

    with app_client(Settings(database_url=db_url, dashboard_cache_seconds=0, _env_file=None)) as client:
        yield ApiClient(client, engine)


def build(session, store) -> dict[str, int]:
    b = StoreBuilder(session, store)
    ann = b.customer(email="ann@example.com", gender="FEMALE", created_at=utc(2026, 1, 5))
    bob = b.customer(email="bob@example.com", gender="MALE", created_at=utc(2026, 2, 1))
    cy = b.customer(phone="+48500100200", created_at=utc(2026, 1, 20))
    dee = b.customer(email="dee@example.com", gender="FEMALE", created_at=utc(2026, 3, 3))
    b.customer(created_at=utc(2026, 3, 12))  # a visitor
    b.consent(ann, "EMAIL", "SUBSCRIBED", utc(2026, 1, 6))
    b.consent(bob, "EMAIL", "SUBSCRIBED", utc(2026, 2, 2))
    b.consent(cy, "SMS", "SUBSCRIBED", utc(2026, 3, 5))
    b.consent(dee, "EMAIL", "PENDING", utc(2026, 3, 4))
    for customer, total, at in ((ann, "120.00", utc(2026, 1, 10)), (ann, "80.00", utc(2026, 3, 8)),
                                (bob, "45.50", utc(2026, 2, 20)), (cy, "300.00", utc(2026, 3, 1, 22, 30)),
                                (cy, "19.99", utc(2026, 3, 21)), (dee, "64.00", utc(2026, 3, 27))):
        b.order(customer, total, at)
    refunded = b.order(bob, "200.00", utc(2026, 3, 2))
    b.refund(refunded, "50.00", utc(2026, 3, 9))
    b.activity(dee, "VISIT", utc(2026, 3, 29))
    b.tag(ann, "vip", utc(2026, 1, 15))
    b.tag(cy, "vip", utc(2026, 3, 10))
    b.tag(bob, "wholesale", utc(2026, 2, 5), removed_at=utc(2026, 3, 20))
    b.commit()
    return {"ann": ann.id, "bob": bob.id, "cy": cy.id, "dee": dee.id}


def answers(api, key) -> dict:
    """Every figure the comparison covers: the dashboard of March (daily points) and of a range after
    the precomputed days, each preset's RFM grid in both schemes, and the period KPIs."""
    result = {}
    for name, r in (("march", MARCH), ("later", LATER)):
        result[name] = api.data(DASHBOARD, {"range": r, "granularity": "DAY"}, key=key)["dashboard"]
    for preset, r in PRESET_RANGES.items():
        for scheme in ("QUINTILE", "EDRONE"):
            grid = api.data(GRID, {"range": r, "scheme": scheme}, key=key)["rfmGrid"]
            grid.pop("computedAt")
            result[preset, scheme] = grid
    result["kpis"] = api.data(KPIS, {"range": MARCH, "granularity": "WEEK"}, key=key)["periodKpis"]
    return result


def grid_computed_at(api, key) -> list:
    return [api.data(GRID, {"range": r}, key=key)["rfmGrid"]["computedAt"] for r in PRESET_RANGES.values()]


def pending(engine, store) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(AnalyticsInvalidation)
                            .where(AnalyticsInvalidation.store_id == store.id)).one()


def precompute(api, engine, key, first: str, last: str) -> Job:
    job_id = node_row_id(api.data(START, {"first": first, "last": last}, key=key)["precomputeStart"]["id"], "Job")
    job = wait_for_job(engine, job_id)
    assert job.status == "SUCCEEDED", job.error
    return job


def import_file(engine, store, tmp_path, kind: str, text: str) -> None:
    path = tmp_path / f"{kind}-{store.id}.csv"
    path.write_text(text)
    summary = import_csv(engine, store.id, path, kind)
    assert not summary.errors, summary.errors


def test_every_figure_equals_live_after_late_changes_before_and_after_the_recompute(live_api, engine, make_store,
                                                                                 tmp_path):
    api = live_api
    stored_store, live_store = make_store(timezone="Europe/Warsaw"), make_store(timezone="Europe/Warsaw")
    ids = {}
    with Session(engine, expire_on_commit=False) as session:
        for store in (stored_store, live_store):
            ids[store.id] = build(session, store)
    keys = {store.id: api.key(store, "admin") for store in (stored_store, live_store)}
    key = keys[stored_store.id]

    job = precompute(api, engine, key, "2026-03-01", "2026-03-31")
    assert job.counts["days"] == 31 and job.counts["rfm_rows"] > 0
    assert pending(engine, stored_store) == 0
    assert None not in grid_computed_at(api, key)  # the job wrote the preset grids, and they are read
    assert answers(api, key) == answers(api, keys[live_store.id])

    def late_orders(store):  # a new guest and a known customer, one order refunded; by CSV (bulk on PostgreSQL)
        import_file(engine, store, tmp_path, "orders", HEADER
                    + "L1;2026-03-10T12:00:00Z;paid;99.00;ann@example.com;PLN;;;1;p1;1;99.00\n"
                    + "L2;2026-03-14T08:00:00+01:00;completed;410.00;eve@example.com;PLN;10.00;2026-03-16;1;p1;1;410\n")

    def refund_of_a_precomputed_order(store):
        import_file(engine, store, tmp_path, "orders", HEADER
                    + "L1;2026-03-10T12:00:00Z;refunded;99.00;ann@example.com;PLN;99.00;2026-03-18T10:00:00Z;1;p1;1;"
                      "99.00\n")

    def consent(store):
        import_file(engine, store, tmp_path, "consents", "email,channel,state,occurred_at\n"
                    "ann@example.com,EMAIL,UNSUBSCRIBED,2026-03-15T09:00:00Z\n"
                    "dee@example.com,EMAIL,SUBSCRIBED,2026-03-06\n")

    def tag(store):
        import_file(engine, store, tmp_path, "tags", "email,tag,applied_at,removed_at\n"
                    "dee@example.com,vip,2026-03-05,\n"
                    "ann@example.com,vip,2026-01-15T00:00:00Z,2026-03-25\n")

    def activity(store):  # a connector's batch
        with Session(engine, expire_on_commit=False) as session:
            record = ActivityRecord(source="shop", external_id=f"v-{store.id}", activity=ActivityKind.VISIT,
                                    customer=CustomerRef(email="bob@example.com"), occurred_at=utc(2026, 3, 26, 12))
            ingest_records(session, session.merge(store), [record], source="shop")
            session.commit()

    def gender(store):
        data = api.data(UPDATE, {"id": global_id("Customer", ids[store.id]["ann"]), "gender": "OTHER"}, key=keys[store.id])
        assert data["customerUpdate"]["__typename"] == "Customer"

    def erasure(store):
        data = api.data(ERASE, {"id": global_id("Customer", ids[store.id]["cy"])}, key=keys[store.id])
        assert data["customersErase"]["changed"] == 1

    for change in (late_orders, refund_of_a_precomputed_order, consent, tag, activity, gender, erasure):
        before = answers(api, key)
        for store in (stored_store, live_store):
            change(store)
        assert pending(engine, stored_store) > 0, change.__name__
        now = answers(api, key)
        assert now == answers(api, keys[live_store.id]), f"{change.__name__}: stale before the recompute"
        assert now != before, f"{change.__name__} changed no figure"
        # The job asked for one day recomputes every stale stored day, and the grids of its last day.
        job = precompute(api, engine, key, "2026-03-31", "2026-03-31")
        assert job.counts["days"] > 1 and job.counts["invalidations_cleared"] > 0, change.__name__
        assert pending(engine, stored_store) == 0
        assert None not in grid_computed_at(api, key), change.__name__
        assert answers(api, key) == answers(api, keys[live_store.id]), f"{change.__name__}: wrong after it"
    with Session(engine) as session:
        days = session.exec(select(func.count()).select_from(DailyCustomerCount)
                            .where(DailyCustomerCount.store_id == stored_store.id)).one()
        assert days == 31


def test_the_job_writes_the_preset_grids_of_its_last_day(live_api, engine, make_store):
    api = live_api
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        build(session, store)
    key = api.key(store, "write")
    assert set(grid_computed_at(api, key)) == {None}  # nothing stored: live
    precompute(api, engine, key, "2026-03-30", "2026-03-31")
    with Session(engine) as session:
        stored = session.exec(select(DailyRfmCell.day, DailyRfmCell.preset, DailyRfmCell.scheme, func.count())
                              .where(DailyRfmCell.store_id == store.id)
                              .group_by(DailyRfmCell.day, DailyRfmCell.preset, DailyRfmCell.scheme)).all()
    assert {(day, preset, scheme) for day, preset, scheme, _ in stored} == {
        (date(2026, 3, 31), preset, scheme)
        for preset in ("LAST_7_DAYS", "LAST_30_DAYS", "LAST_90_DAYS", "LAST_365_DAYS", "YEAR_TO_DATE")
        for scheme in ("QUINTILE", "EDRONE")}
    assert None not in grid_computed_at(api, key)
    for r in PRESET_RANGES.values():
        stored_grid = api.data(GRID, {"range": r}, key=key)["rfmGrid"]
        live_grid = api.data(GRID, {"range": r, "live": True}, key=key)["rfmGrid"]
        assert stored_grid["computedAt"] and live_grid["computedAt"] is None
        assert {k: v for k, v in stored_grid.items() if k != "computedAt"} == {
            k: v for k, v in live_grid.items() if k != "computedAt"}


def test_a_profile_edit_invalidates_only_when_a_figure_depends_on_it(live_api, engine, make_store):
    api = live_api
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        ids = build(session, store)
        visitor = StoreBuilder(session, store).customer(created_at=utc(2026, 3, 2))
        session.commit()
    key = api.key(store, "admin")
    precompute(api, engine, key, "2026-03-01", "2026-03-31")
    edit = """mutation($id: ID!, $input: CustomerInput!) { customerUpdate(id: $id, input: $input) { __typename } }"""
    api.data(edit, {"id": global_id("Customer", ids["ann"]), "input": {"email": "ann.lee@example.com", "city": "Kraków"}}, key=key)
    assert pending(engine, store) == 0  # still identified: no figure changes
    api.data(edit, {"id": global_id("Customer", visitor.id), "input": {"phone": "+48600700800"}}, key=key)
    assert pending(engine, store) == 1  # identified now, from its creation on
    with Session(engine) as session:
        assert session.exec(select(AnalyticsInvalidation.from_day)
                            .where(AnalyticsInvalidation.store_id == store.id)).one() <= date(2026, 3, 2)


def test_a_preset_grid_asked_today_is_stored_by_the_daily_run_until_a_change_today(live_api, engine, make_store):
    """`rfmGrid(preset: …)` is the range ending today: the run that brings the stored days up to
    yesterday also stores the preset grids of today, so the presets are answered from them (STORED,
    with `computedAt`) and equal the live grid; an order placed today makes them live until the next
    daily run, and the scheduler does not try to recompute the unfinished day."""
    api = live_api
    store = make_store(timezone="Europe/Warsaw")
    now = datetime.now(timezone.utc)
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        buyers = [b.customer(email=f"p{i}@example.com", created_at=now - timedelta(days=400)) for i in range(6)]
        for i, customer in enumerate(buyers):
            for k in range(i % 3 + 1):
                b.order(customer, f"{20 + 15 * i + k}.00", now - timedelta(days=5 + 50 * k + 7 * i))
        b.customer(email="visitor@example.com", created_at=now - timedelta(days=3))
        b.commit()
        today = store_today(store)
    key = api.key(store, "write")
    yesterday = today - timedelta(days=1)
    presets = ("LAST_7_DAYS", "LAST_30_DAYS", "LAST_90_DAYS", "LAST_365_DAYS", "YEAR_TO_DATE")

    def grids() -> dict:
        found = {}
        for preset in presets:
            for scheme in ("QUINTILE", "EDRONE"):
                stored = api.data(GRID, {"preset": preset, "scheme": scheme}, key=key)["rfmGrid"]
                live = api.data(GRID, {"preset": preset, "scheme": scheme, "live": True}, key=key)["rfmGrid"]
                assert live["computedAt"] is None
                computed_at = stored.pop("computedAt")
                live.pop("computedAt")
                assert stored == live, (preset, scheme)
                found[preset, scheme] = computed_at
        return found

    assert set(grids().values()) == {None}
    precompute(api, engine, key, (today - timedelta(days=400)).isoformat(), yesterday.isoformat())
    assert None not in grids().values()

    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        b.order(session.get(Customer, buyers[0].id), "99.00", datetime.now(timezone.utc))
        b.commit()
        planned = stale_recompute(session, session.merge(store))
    # today is not over: no recompute of it is planned (on SQLite the change also marks yesterday,
    # as its triggers cannot convert to the store's timezone; a recompute of yesterday is planned)
    assert planned is None or planned[0][1] < today
    assert set(grids().values()) == {None}

    precompute(api, engine, key, yesterday.isoformat(), yesterday.isoformat())  # the next daily run
    assert None not in grids().values()
