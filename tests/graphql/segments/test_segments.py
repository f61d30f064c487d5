"""Saved segments through GraphQL: CRUD, live members, counts with freshness, history, typed errors
with field paths, the typed saved filter, global ids and paging."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from crm_graph.graphql.relay import global_id, node_row_id
from crm_graph.services.segments import snapshot_segments
from tests.factories import StoreBuilder, utc

SAVED_FILTER = """filter {
  search countries cities productIds tags emailConsent smsConsent genders identified
  spentMin { amount currencyCode } spentMax { amount currencyCode } ordersMin ordersMax
  customerSinceFrom customerSinceTo lastActivityFrom lastActivityTo neverActive revenueBands pAliveMin pAliveMax
  predictedValueMin { amount currencyCode } predictedValueMax { amount currencyCode } segmentId
  valueSegments frequencySegments spenderSegmentsAsOf
  rfm { range { from to } preset scheme segments cells { r fm } }
}"""
FIELDS = "id name description %s memberCount lastComputedAt computing lastError" % SAVED_FILTER
RESULT = "__typename ... on Segment { %s } ... on UserError { code message field }" % FIELDS
CREATE = "mutation($input: SegmentInput!) { segmentCreate(input: $input) { %s } }" % RESULT
UPDATE = "mutation($id: ID!, $input: SegmentUpdateInput!) { segmentUpdate(id: $id, input: $input) { %s } }" % RESULT
DELETE = """mutation($id: ID!) { segmentDelete(id: $id) {
  __typename ... on DeletedSegment { deletedSegmentId name } ... on UserError { code field } } }"""
REFRESH = "mutation($id: ID!) { segmentCountRefresh(id: $id) { %s } }" % RESULT
MEMBERS = """query($id: ID!) { segment(id: $id) { name liveCount customers(sort: ID, direction: ASC) { totalCount nodes { email } } } }"""
NAMES = "{ segments { totalCount nodes { name } } }"
PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  segments(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { name } } nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Segment { name } } }"


def _set(saved: dict) -> dict:
    """The conditions of a saved filter that are set (the others are null)."""
    return {name: value for name, value in saved.items() if value is not None}


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
                                          "filter": {"countries": ["PL"], "ordersMin": 1}}}, key=key)["segmentCreate"]
    assert created["__typename"] == "Segment" and created["name"] == "Polish buyers"
    assert _set(created["filter"]) == {"countries": ["PL"], "ordersMin": 1}
    assert created["memberCount"] is None and created["computing"] is False
    sid = created["id"]
    members = api.data(MEMBERS, {"id": sid}, key=key)["segment"]
    assert members["liveCount"] == 2 and [n["email"] for n in members["customers"]["nodes"]] == ["c0@example.com", "c1@example.com"]
    refreshed = api.data(REFRESH, {"id": sid}, key=key)["segmentCountRefresh"]
    assert refreshed["__typename"] == "Segment" and refreshed["id"] == sid
    assert refreshed["memberCount"] == 2 and refreshed["lastComputedAt"] and refreshed["lastError"] is None
    # the filter input takes a saved segment, alone or with more conditions
    listed = api.data("query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
                      {"f": {"segmentId": sid, "spentMin": "100"}}, key=key)
    assert listed["customers"]["totalCount"] == 1
    updated = api.data(UPDATE, {"id": sid, "input": {"filter": {"countries": ["PL", "DE"]}, "description": None}}, key=key)
    assert updated["segmentUpdate"]["memberCount"] is None and updated["segmentUpdate"]["description"] is None
    assert _set(updated["segmentUpdate"]["filter"]) == {"countries": ["PL", "DE"]}
    assert api.data(MEMBERS, {"id": sid}, key=key)["segment"]["liveCount"] == 3
    assert api.data(NAMES, key=key)["segments"] == {"totalCount": 1, "nodes": [{"name": "Polish buyers"}]}
    deleted = api.data(DELETE, {"id": sid}, key=key)["segmentDelete"]
    assert deleted == {"__typename": "DeletedSegment", "deletedSegmentId": sid, "name": "Polish buyers"}
    assert api.data(NAMES, key=key)["segments"] == {"totalCount": 0, "nodes": []}


def test_segment_errors_are_typed_with_their_field_and_change_nothing(api, store, make_store):
    key = api.key(store, "write")
    first = api.data(CREATE, {"input": {"name": "A", "filter": {"countries": ["PL"]}}}, key=key)["segmentCreate"]
    missing = global_id("Segment", 99_999_999)
    wrong_type = global_id("Job", node_row_id(first["id"], "Segment"))
    cases = [
        (CREATE, {"input": {"name": "A", "filter": {}}}, "segmentCreate", "ConflictError", ["input", "name"]),
        (CREATE, {"input": {"name": "", "filter": {}}}, "segmentCreate", "ValidationError", ["input", "name"]),
        (CREATE, {"input": {"name": "B", "description": "d" * 2001, "filter": {}}}, "segmentCreate", "ValidationError",
         ["input", "description"]),
        (CREATE, {"input": {"name": "B", "filter": {"spentMin": "5", "spentMax": "1"}}}, "segmentCreate",
         "ValidationError", ["input", "filter"]),
        (CREATE, {"input": {"name": "B", "filter": {"ordersMin": -1}}}, "segmentCreate", "ValidationError",
         ["input", "filter", "ordersMin"]),
        (CREATE, {"input": {"name": "B", "filter": {"segmentId": missing}}}, "segmentCreate", "NotFoundError",
         ["input", "filter", "segmentId"]),
        (UPDATE, {"id": missing, "input": {"name": "Z"}}, "segmentUpdate", "NotFoundError", ["id"]),
        (UPDATE, {"id": "zz", "input": {"name": "Z"}}, "segmentUpdate", "NotFoundError", ["id"]),
        (UPDATE, {"id": "12345", "input": {"name": "Z"}}, "segmentUpdate", "NotFoundError", ["id"]),
        (UPDATE, {"id": wrong_type, "input": {"name": "Z"}}, "segmentUpdate", "NotFoundError", ["id"]),
        (UPDATE, {"id": first["id"], "input": {"filter": {"segmentId": first["id"]}}}, "segmentUpdate",
         "ValidationError", ["input", "filter", "segmentId"]),
        (DELETE, {"id": missing}, "segmentDelete", "NotFoundError", ["id"]),
        (REFRESH, {"id": missing}, "segmentCountRefresh", "NotFoundError", ["id"]),
        (REFRESH, {"id": "zz"}, "segmentCountRefresh", "NotFoundError", ["id"]),
    ]
    for query, variables, field, typename, path in cases:
        answer = api.data(query, variables, key=key)[field]
        assert (answer["__typename"], answer["field"]) == (typename, path), variables
        assert answer["code"] == {"ConflictError": "CONFLICT", "NotFoundError": "NOT_FOUND"}.get(typename, "BAD_USER_INPUT")
    other = make_store()
    other_key = api.key(other, "write")
    assert api.data(DELETE, {"id": first["id"]}, key=other_key)["segmentDelete"]["__typename"] == "NotFoundError"
    assert api.data(UPDATE, {"id": first["id"], "input": {"name": "Mine"}},
                    key=other_key)["segmentUpdate"]["__typename"] == "NotFoundError"
    assert api.data(REFRESH, {"id": first["id"]}, key=other_key)["segmentCountRefresh"]["__typename"] == "NotFoundError"
    theirs = api.data(CREATE, {"input": {"name": "T", "filter": {"segmentId": first["id"]}}}, key=other_key)["segmentCreate"]
    assert (theirs["__typename"], theirs["field"]) == ("NotFoundError", ["input", "filter", "segmentId"])
    assert api.data("query($id: ID!) { segment(id: $id) { id } }", {"id": first["id"]}, key=api.key(other))["segment"] is None
    assert api.data(NAMES, key=key)["segments"] == {"totalCount": 1, "nodes": [{"name": "A"}]}
    assert api.data(NAMES, key=other_key)["segments"] == {"totalCount": 0, "nodes": []}
    assert api.error_codes(DELETE, {"id": first["id"]}, key=api.key(store, "read")) == ["FORBIDDEN"]


def test_segments_referring_to_each_other_cannot_loop(api, store):
    key = api.key(store, "write")
    a = api.data(CREATE, {"input": {"name": "A", "filter": {"countries": ["PL"]}}}, key=key)["segmentCreate"]
    b = api.data(CREATE, {"input": {"name": "B", "filter": {"segmentId": a["id"]}}}, key=key)["segmentCreate"]
    assert b["filter"]["segmentId"] == a["id"]
    looped = api.data(UPDATE, {"id": a["id"], "input": {"filter": {"segmentId": b["id"]}}}, key=key)["segmentUpdate"]
    assert looped["__typename"] == "ValidationError" and looped["field"] == ["input", "filter", "segmentId"]
    used = api.data(DELETE, {"id": a["id"]}, key=key)["segmentDelete"]
    assert used == {"__typename": "ConflictError", "code": "CONFLICT", "field": ["id"]}


def test_count_over_time_from_daily_snapshots(api, store, engine):
    _shop(engine, store)
    key = api.key(store, "write")
    sid = api.data(CREATE, {"input": {"name": "PL", "filter": {"countries": ["PL"]}}}, key=key)["segmentCreate"]["id"]
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
    created = api.data(CREATE, {"input": {"name": "R3 FM3", "filter": cell}}, key=key)["segmentCreate"]
    assert _set(created["filter"]) == {"rfm": {"range": {"from": "2026-03-01", "to": "2026-03-31"}, "preset": None,
                                               "scheme": None, "segments": None, "cells": [{"r": 3, "fm": 3}]}}
    members = api.data(MEMBERS, {"id": created["id"]}, key=key)["segment"]
    assert members["liveCount"] == 1 and members["customers"]["nodes"] == [{"email": "big@example.com"}]


def test_the_typed_filter_reads_back_what_was_saved(api, make_store):
    store = make_store(currency="PLN")
    key = api.key(store, "write")
    inner = api.data(CREATE, {"input": {"name": "inner", "filter": {}}}, key=key)["segmentCreate"]
    saved = {
        "search": "ann", "countries": ["PL", "DE"], "cities": ["Kraków"], "productIds": ["17", "42"], "tags": ["vip"],
        "emailConsent": ["SUBSCRIBED"], "smsConsent": ["UNKNOWN", "UNSUBSCRIBED"], "genders": ["FEMALE"],
        "identified": True, "spentMin": "10.5", "spentMax": "999.99", "ordersMin": 1, "ordersMax": 9,
        "customerSinceFrom": "2025-01-01", "customerSinceTo": "2025-12-31", "lastActivityFrom": "2026-01-01",
        "lastActivityTo": "2026-02-01", "neverActive": False, "revenueBands": ["TOP", "MIDDLE"],
        "pAliveMin": 0.25, "pAliveMax": 0.75, "predictedValueMin": "1", "predictedValueMax": "2000",
        "segmentId": inner["id"], "valueSegments": ["BIG"], "frequencySegments": ["REPEAT", "FREQUENT"],
        "spenderSegmentsAsOf": "2026-01-31",
        "rfm": {"preset": "LAST_90_DAYS", "scheme": "EDRONE", "segments": ["CHAMPIONS", "LOST"],
                "cells": [{"r": 4, "fm": 4}]},
    }
    created = api.data(CREATE, {"input": {"name": "everything", "filter": saved}}, key=key)["segmentCreate"]
    assert created["__typename"] == "Segment", created
    money = {"spentMin": "10.50", "spentMax": "999.99", "predictedValueMin": "1.00", "predictedValueMax": "2000.00"}
    expected = {**saved, **{name: {"amount": amount, "currencyCode": "PLN"} for name, amount in money.items()},
                "rfm": {**saved["rfm"], "range": None}}
    read = api.data("query($id: ID!) { segment(id: $id) { %s } }" % SAVED_FILTER, {"id": created["id"]},
                    key=key)["segment"]["filter"]
    assert read == expected == created["filter"]
    # sent back as an input (amounts as their `amount`), it saves the same filter again
    again = {**{name: value for name, value in read.items() if name not in money},
             **{name: read[name]["amount"] for name in money},
             "rfm": {name: value for name, value in read["rfm"].items() if value is not None}}
    copy = api.data(CREATE, {"input": {"name": "copy", "filter": again}}, key=key)["segmentCreate"]
    assert copy["filter"] == read


def test_segments_are_nodes_of_their_own_store(api, store, make_store):
    key = api.key(store, "write")
    sid = api.data(CREATE, {"input": {"name": "Mine", "filter": {}}}, key=key)["segmentCreate"]["id"]
    other = make_store()
    theirs = api.data(CREATE, {"input": {"name": "Theirs", "filter": {}}}, key=api.key(other, "write"))["segmentCreate"]["id"]
    read = api.key(store, "read")
    assert api.data(NODE, {"id": sid}, key=read)["node"] == {"__typename": "Segment", "id": sid, "name": "Mine"}
    assert api.data(NODE, {"id": theirs}, key=read)["node"] is None
    assert api.data(NODE, {"id": "not-a-global-id"}, key=read)["node"] is None
    assert api.data(NODE, {"id": global_id("ApiKey", node_row_id(sid, "Segment"))}, key=read)["node"] is None
    assert api.data("query($id: ID!) { segment(id: $id) { id } }", {"id": theirs}, key=read)["segment"] is None
    assert api.data("query($id: ID!) { segment(id: $id) { id } }", {"id": str(node_row_id(sid, "Segment"))},
                    key=read)["segment"] is None  # a bare row id is not an id of the API


def test_segments_page_by_name_forward_and_backward(api, store):
    key = api.key(store, "write")
    names = ["delta", "Alpha", "charlie", "bravo", "echo"]
    for name in names:
        assert api.data(CREATE, {"input": {"name": name, "filter": {}}}, key=key)["segmentCreate"]["__typename"] == "Segment"
    everything = [n["name"] for n in api.data(NAMES, key=key)["segments"]["nodes"]]
    assert sorted(everything) == sorted(names) and len(everything) == 5
    first = api.data(PAGE, {"first": 2}, key=key)["segments"]
    assert [n["name"] for n in first["nodes"]] == everything[:2] and first["totalCount"] == 5
    assert [e["node"]["name"] for e in first["edges"]] == everything[:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = api.data(PAGE, {"first": 2, "after": first["pageInfo"]["endCursor"]}, key=key)["segments"]
    assert [n["name"] for n in second["nodes"]] == everything[2:4]
    assert second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    third = api.data(PAGE, {"first": 2, "after": second["pageInfo"]["endCursor"]}, key=key)["segments"]
    assert [n["name"] for n in third["nodes"]] == everything[4:] and not third["pageInfo"]["hasNextPage"]
    back = api.data(PAGE, {"last": 2, "before": third["pageInfo"]["startCursor"]}, key=key)["segments"]
    assert [n["name"] for n in back["nodes"]] == everything[2:4]
    assert back["pageInfo"]["hasPreviousPage"] and back["pageInfo"]["hasNextPage"]
    start = api.data(PAGE, {"last": 3, "before": back["pageInfo"]["startCursor"]}, key=key)["segments"]
    assert [n["name"] for n in start["nodes"]] == everything[:2] and not start["pageInfo"]["hasPreviousPage"]
    tail = api.data(PAGE, {"last": 2}, key=key)["segments"]
    assert [n["name"] for n in tail["nodes"]] == everything[3:]
    assert tail["pageInfo"]["hasPreviousPage"] and not tail["pageInfo"]["hasNextPage"]
    assert api.error_codes(PAGE, {"first": 0}, key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(PAGE, {"first": 1, "before": tail["pageInfo"]["startCursor"]}, key=key) == ["BAD_USER_INPUT"]
    jobs_cursor = api.data("{ jobs { pageInfo { endCursor } } }", key=key)["jobs"]["pageInfo"]["endCursor"]
    assert jobs_cursor is None
    assert api.error_codes(PAGE, {"after": "eyJqb2JzIjpbMV19"}, key=key) == ["BAD_USER_INPUT"]
