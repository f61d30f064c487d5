"""Saved segments through GraphQL: CRUD, live members, counts with freshness, history, typed errors."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from crm_graph.services.segments import snapshot_segments
from tests.factories import StoreBuilder, utc

FIELDS = "id name description filter memberCount lastComputedAt computing lastError"
RESULT = "__typename ... on Segment { %s } ... on MutationError { code message field }" % FIELDS
CREATE = "mutation($input: SegmentInput!) { createSegment(input: $input) { %s } }" % RESULT
UPDATE = "mutation($id: ID!, $input: SegmentUpdateInput!) { updateSegment(id: $id, input: $input) { %s } }" % RESULT
DELETE = "mutation($id: ID!) { deleteSegment(id: $id) { __typename ... on DeletedSegment { id name } ... on MutationError { code } } }"
REFRESH = "mutation($id: ID!) { refreshSegmentCount(id: $id) { %s } }" % RESULT
MEMBERS = """query($id: ID!) { segment(id: $id) { name liveCount customers(sort: ID, direction: ASC) { totalCount nodes { email } } } }"""


def _shop(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        for index, country in enumerate(["PL", "PL", "DE", "US"]):
            customer = b.customer(email=f"c{index}@example.com", country=country)
            if index < 3:
                b.order(customer, "10.00" if index else "500.00", utc(2026, 1, 1))
        b.commit()


def test_segment_lifecycle(api, store, engine):
    _shop(engine, store)
    key = api.key(store, "write")
    created = api.data(CREATE, {"input": {"name": " Polish buyers ", "description": "PL with orders",
                                          "filter": {"countries": ["PL"], "ordersMin": 1}}}, key=key)["createSegment"]
    assert created["__typename"] == "Segment" and created["name"] == "Polish buyers"
    assert created["filter"] == {"countries": ["PL"], "ordersMin": 1}
    assert created["memberCount"] is None and created["computing"] is False
    sid = created["id"]
    members = api.data(MEMBERS, {"id": sid}, key=key)["segment"]
    assert members["liveCount"] == 2 and [n["email"] for n in members["customers"]["nodes"]] == ["c0@example.com", "c1@example.com"]
    refreshed = api.data(REFRESH, {"id": sid}, key=key)["refreshSegmentCount"]
    assert refreshed["memberCount"] == 2 and refreshed["lastComputedAt"] and refreshed["lastError"] is None
    # the filter input takes a saved segment, alone or with more conditions
    listed = api.data("query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
                      {"f": {"segmentId": sid, "spentMin": "100"}}, key=key)
    assert listed["customers"]["totalCount"] == 1
    updated = api.data(UPDATE, {"id": sid, "input": {"filter": {"countries": ["PL", "DE"]}, "description": None}}, key=key)
    assert updated["updateSegment"]["memberCount"] is None and updated["updateSegment"]["description"] is None
    assert api.data(MEMBERS, {"id": sid}, key=key)["segment"]["liveCount"] == 3
    assert [s["name"] for s in api.data("{ segments { name } }", key=key)["segments"]] == ["Polish buyers"]
    deleted = api.data(DELETE, {"id": sid}, key=key)["deleteSegment"]
    assert deleted == {"__typename": "DeletedSegment", "id": sid, "name": "Polish buyers"}
    assert api.data("{ segments { id } }", key=key)["segments"] == []


def test_segment_errors_are_typed_and_change_nothing(api, store, make_store):
    key = api.key(store, "write")
    first = api.data(CREATE, {"input": {"name": "A", "filter": {"countries": ["PL"]}}}, key=key)["createSegment"]
    cases = [
        (CREATE, {"input": {"name": "A", "filter": {}}}, "createSegment", "ConflictError"),
        (CREATE, {"input": {"name": "", "filter": {}}}, "createSegment", "ValidationError"),
        (CREATE, {"input": {"name": "B", "filter": {"spentMin": "5", "spentMax": "1"}}}, "createSegment", "ValidationError"),
        (CREATE, {"input": {"name": "B", "filter": {"segmentId": "99999999"}}}, "createSegment", "NotFoundError"),
        (UPDATE, {"id": "99999999", "input": {"name": "Z"}}, "updateSegment", "NotFoundError"),
        (UPDATE, {"id": "zz", "input": {"name": "Z"}}, "updateSegment", "NotFoundError"),
        (UPDATE, {"id": first["id"], "input": {"filter": {"segmentId": first["id"]}}}, "updateSegment", "ValidationError"),
        (DELETE, {"id": "99999999"}, "deleteSegment", "NotFoundError"),
    ]
    for query, variables, field, typename in cases:
        assert api.data(query, variables, key=key)[field]["__typename"] == typename, variables
    other = make_store()
    assert api.data(DELETE, {"id": first["id"]}, key=api.key(other, "write"))["deleteSegment"]["__typename"] == "NotFoundError"
    assert api.data("query($id: ID!) { segment(id: $id) { id } }", {"id": first["id"]}, key=api.key(other))["segment"] is None
    assert [s["name"] for s in api.data("{ segments { name } }", key=key)["segments"]] == ["A"]


def test_segments_referring_to_each_other_cannot_loop(api, store):
    key = api.key(store, "write")
    a = api.data(CREATE, {"input": {"name": "A", "filter": {"countries": ["PL"]}}}, key=key)["createSegment"]
    b = api.data(CREATE, {"input": {"name": "B", "filter": {"segmentId": a["id"]}}}, key=key)["createSegment"]
    looped = api.data(UPDATE, {"id": a["id"], "input": {"filter": {"segmentId": b["id"]}}}, key=key)["updateSegment"]
    assert looped["__typename"] == "ValidationError"
    assert api.data(DELETE, {"id": a["id"]}, key=key)["deleteSegment"]["__typename"] == "ConflictError"


def test_count_over_time_from_daily_snapshots(api, store, engine):
    _shop(engine, store)
    key = api.key(store, "write")
    sid = api.data(CREATE, {"input": {"name": "PL", "filter": {"countries": ["PL"]}}}, key=key)["createSegment"]["id"]
    with Session(engine, expire_on_commit=False) as session:
        assert snapshot_segments(session, store, date(2026, 3, 1)) == 1
        StoreBuilder(session, store).customer(email="new@example.com", country="PL")
        session.commit()
        snapshot_segments(session, store, date(2026, 3, 2))
        snapshot_segments(session, store, date(2026, 3, 2))  # again the same day: replaced, not doubled
        session.commit()
    query = """query($id: ID!, $from: Date!, $to: Date!) { segment(id: $id) { countHistory(from: $from, to: $to) { day count } } }"""
    history = api.data(query, {"id": sid, "from": "2026-03-01", "to": "2026-03-31"}, key=key)["segment"]["countHistory"]
    assert history == [{"day": "2026-03-01", "count": 2}, {"day": "2026-03-02", "count": 3}]
    assert api.error_codes(query, {"id": sid, "from": "2026-03-02", "to": "2026-03-01"}, key=key) == ["BAD_USER_INPUT"]


def test_an_rfm_cell_saved_as_a_segment(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        big, small = b.customer(email="big@example.com"), b.customer(email="small@example.com")
        b.order(big, "100.00", utc(2026, 3, 10))
        b.order(big, "100.00", utc(2026, 3, 20))
        b.order(small, "5.00", utc(2026, 3, 1))
        b.commit()
    key = api.key(store, "write")
    # n = 2: big F2 M200, 11 days before the end -> R 1 + floor(5 x 1/2) = 3, F3 M3, FM3; small R1 F1 M1, FM1
    cell = {"rfm": {"range": {"from": "2026-03-01", "to": "2026-03-31"}, "cells": [{"r": 3, "fm": 3}]}}
    created = api.data(CREATE, {"input": {"name": "R3 FM3", "filter": cell}}, key=key)["createSegment"]
    assert created["filter"] == {"rfm": {"range": {"from": "2026-03-01", "to": "2026-03-31"}, "cells": [{"r": 3, "fm": 3}]}}
    members = api.data(MEMBERS, {"id": created["id"]}, key=key)["segment"]
    assert members["liveCount"] == 1 and members["customers"]["nodes"] == [{"email": "big@example.com"}]
