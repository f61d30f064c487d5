"""The customer list through GraphQL: search, every filter, sorts, cursors, total count, bad input."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from tests.factories import StoreBuilder, utc

LIST = """query($filter: CustomerFilter, $sort: CustomerSort, $direction: SortDirection, $first: Int, $after: String,
                $last: Int, $before: String) {
  customers(filter: $filter, sort: $sort, direction: $direction, first: $first, after: $after, last: $last,
            before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } } nodes { id email } } }"""


@pytest.fixture
def shop(engine, make_store):
    """A Warsaw store with six customers whose differences each filter can tell apart."""
    store = make_store(timezone="Europe/Warsaw", currency="PLN")
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        c = {}
        c["anna"] = b.customer(email="anna.kowalska@example.com", first_name="Anna", last_name="Kowalska",
                               phone="+48601234567", country="PL", city="Kraków", gender="FEMALE",
                               created_at=utc(2024, 12, 31, 23, 30), last_activity_at=utc(2026, 3, 1))
        c["jan"] = b.customer(email="jan@example.com", first_name="Jan", last_name="Nowak", country="PL",
                              city="Warszawa", gender="MALE", created_at=utc(2025, 6, 1))
        c["ola"] = b.customer(email="ola_100%@example.com", first_name="Łucja", last_name="Zięba", country="DE",
                              created_at=utc(2025, 7, 1), last_activity_at=utc(2026, 2, 10))
        c["bob"] = b.customer(email="bob@shop.test", first_name="Bob", last_name="Adams", country="US",
                              created_at=utc(2026, 1, 5))
        c["anon"] = b.customer(created_at=utc(2026, 2, 1))
        c["gone"] = b.customer(email="anna.gone@example.com", first_name="Anna", erased_at=utc(2026, 2, 2))
        b.identity(c["bob"], "woocommerce", "WC-777")
        b.identity(c["jan"], "shopify", "9001")
        shoes, hat = b.product("Shoes"), b.product("Hat")
        b.order(c["anna"], "100.00", utc(2026, 1, 10), lines=[(shoes, 1, "100.00")])
        b.order(c["anna"], "50.00", utc(2026, 2, 10), lines=[(hat, 2, "25.00")])
        b.order(c["jan"], "30.00", utc(2026, 1, 15), lines=[(hat, 1, "30.00")])
        b.order(c["bob"], "999.00", utc(2026, 1, 20), status="CANCELLED", lines=[(shoes, 1, "999.00")])
        b.order(c["ola"], "20.00", utc(2026, 2, 1), lines=[(shoes, 1, "20.00")])
        b.consent(c["anna"], "EMAIL", "SUBSCRIBED", utc(2025, 1, 1))
        b.consent(c["jan"], "EMAIL", "SUBSCRIBED", utc(2025, 1, 1))
        b.consent(c["jan"], "EMAIL", "UNSUBSCRIBED", utc(2025, 5, 1))
        b.consent(c["ola"], "EMAIL", "INVALID", utc(2025, 8, 1))
        b.consent(c["bob"], "EMAIL", "PENDING", utc(2025, 8, 1))
        b.consent(c["bob"], "SMS", "SUBSCRIBED", utc(2025, 8, 1))
        b.tag(c["anna"], "vip", utc(2026, 1, 1))
        b.tag(c["jan"], "vip", utc(2026, 1, 1), removed_at=utc(2026, 1, 2))
        b.tag(c["ola"], "wholesale", utc(2026, 1, 1))
        b.commit()
        products = {"shoes": shoes.id, "hat": hat.id}
    return store, {name: global_id("Customer", row.id) for name, row in c.items()}, products


def emails(api, key, filter=None, **variables):
    data = api.data(LIST, {"filter": filter, "first": 50, **variables}, key=key)["customers"]
    return sorted(node["email"] or "-" for node in data["nodes"]), data["totalCount"]


@pytest.mark.parametrize("search, expected", [
    ("ANNA.k", ["anna.kowalska@example.com"]),
    ("kowal", ["anna.kowalska@example.com"]),
    ("anna kow", ["anna.kowalska@example.com"]),
    ("łuc", ["ola_100%@example.com"]),
    ("ŁUC", ["ola_100%@example.com"]),
    ("ola_100%", ["ola_100%@example.com"]),
    ("ola%", []),
    ("o_a", []),
    ("+48 601", ["anna.kowalska@example.com"]),
    ("48601", ["anna.kowalska@example.com"]),
    ("wc-7", ["bob@shop.test"]),
    ("shopify:90", ["jan@example.com"]),
    ("woocommerce:90", []),
    ("'; drop table customer; --", []),
    ("%%%___\\", []),
    ("\"'🙂", []),
])
def test_search_is_a_case_insensitive_prefix_with_metacharacters_escaped(api, shop, search, expected, backend):
    store, ids, _ = shop
    assert emails(api, api.key(store, "read"), {"search": search})[0] == expected


def test_search_by_global_id_is_exact(api, shop):
    store, ids, _ = shop
    found, _ = emails(api, api.key(store, "read"), {"search": ids["jan"]})
    assert "jan@example.com" in found
    assert "anna.gone@example.com" not in emails(api, api.key(store, "read"), {"search": ids["gone"]})[0]


@pytest.mark.parametrize("filter, expected", [
    ({"countries": ["pl"]}, ["anna.kowalska@example.com", "jan@example.com"]),
    ({"cities": ["KRAKÓW", "nowhere"]}, ["anna.kowalska@example.com"]),
    ({"tags": ["vip"]}, ["anna.kowalska@example.com"]),
    ({"tags": ["vip", "wholesale"]}, ["anna.kowalska@example.com", "ola_100%@example.com"]),
    ({"emailConsent": ["SUBSCRIBED"]}, ["anna.kowalska@example.com"]),
    ({"emailConsent": ["UNSUBSCRIBED"]}, ["jan@example.com", "ola_100%@example.com"]),
    ({"emailConsent": ["UNKNOWN"]}, ["-", "bob@shop.test"]),
    ({"smsConsent": ["SUBSCRIBED"]}, ["bob@shop.test"]),
    ({"genders": ["FEMALE", "MALE"]}, ["anna.kowalska@example.com", "jan@example.com"]),
    ({"identified": False}, ["-"]),
    ({"identified": True}, ["anna.kowalska@example.com", "bob@shop.test", "jan@example.com", "ola_100%@example.com"]),
    ({"spentMin": "30", "spentMax": "150"}, ["anna.kowalska@example.com", "jan@example.com"]),
    ({"spentMin": "150.01"}, []),
    ({"ordersMin": 2}, ["anna.kowalska@example.com"]),
    ({"ordersMax": 0}, ["-", "bob@shop.test"]),
    # 2024-12-31 23:30 UTC is 2025-01-01 00:30 in Warsaw: a 2025 customer.
    ({"customerSinceFrom": "2025-01-01", "customerSinceTo": "2025-06-01"}, ["anna.kowalska@example.com", "jan@example.com"]),
    ({"customerSinceTo": "2024-12-31"}, []),
    ({"lastActivityFrom": "2026-02-10", "lastActivityTo": "2026-02-10"}, ["ola_100%@example.com"]),
    ({"neverActive": True}, ["-", "bob@shop.test", "jan@example.com"]),
    ({"countries": ["PL"], "emailConsent": ["SUBSCRIBED"], "tags": ["vip"]}, ["anna.kowalska@example.com"]),
    # revenue 150 + 30 + 20 = 200: Anna (150) brings the first 80% alone; Jan starts at 75% < 80% too.
    ({"revenueBands": ["TOP"]}, ["anna.kowalska@example.com", "jan@example.com"]),
    ({"revenueBands": ["MIDDLE"]}, ["ola_100%@example.com"]),
    ({"revenueBands": ["NONE"]}, ["-", "bob@shop.test"]),
    # spenders' net revenue 20 (Ola), 30 (Jan), 150 (Anna): 50th percentile 30, 80th 30 + 0.6 x 120 = 102;
    # the frequent threshold is max(3, ceil(mean of 2+ order counts = 2)) = 3, so Anna's 2 orders are REPEAT.
    ({"valueSegments": ["BIG"]}, ["anna.kowalska@example.com"]),
    ({"valueSegments": ["SMALL", "MEDIUM"]}, ["jan@example.com", "ola_100%@example.com"]),
    ({"frequencySegments": ["REPEAT"]}, ["anna.kowalska@example.com"]),
    ({"frequencySegments": ["ONE_TIME"], "valueSegments": ["SMALL"]}, ["ola_100%@example.com"]),
    ({"valueSegments": ["BIG"], "spenderSegmentsAsOf": "2026-01-12"}, ["anna.kowalska@example.com"]),
    ({"valueSegments": ["SMALL", "MEDIUM", "BIG"], "spenderSegmentsAsOf": "2025-12-31"}, []),
    # RFM over Jan-Feb 2026 (QUINTILE, n = 3): Anna F2 M150 last order 18 days before the end -> R4 F4 M4, FM4
    # (LOYAL); Jan F1 M30, 44 days -> R1 F1 M2, FM2 (HIBERNATING); Ola F1 M20, 27 days -> R2 F1 M1, FM1
    # (ABOUT_TO_SLEEP). Bob's only order was cancelled: not in the grid.
    ({"rfm": {"range": {"from": "2026-01-01", "to": "2026-02-28"}, "segments": ["LOYAL"]}},
     ["anna.kowalska@example.com"]),
    ({"rfm": {"range": {"from": "2026-01-01", "to": "2026-02-28"}, "cells": [{"r": 1, "fm": 2}]}}, ["jan@example.com"]),
    ({"rfm": {"range": {"from": "2026-01-01", "to": "2026-02-28"}, "segments": ["HIBERNATING", "ABOUT_TO_SLEEP"]}},
     ["jan@example.com", "ola_100%@example.com"]),
    ({"rfm": {"range": {"from": "2026-01-01", "to": "2026-02-28"}}},
     ["anna.kowalska@example.com", "jan@example.com", "ola_100%@example.com"]),
    ({"rfm": {"range": {"from": "2026-01-01", "to": "2026-02-28"}, "segments": ["LOYAL"], "cells": [{"r": 1, "fm": 2}]}}, []),
])
def test_each_filter(api, shop, filter, expected):
    store, _, _ = shop
    found, total = emails(api, api.key(store, "read"), filter)
    assert found == expected
    assert total == len(expected)


def test_product_filter_counts_only_counted_orders(api, shop):
    store, _, products = shop
    found, _ = emails(api, api.key(store, "read"), {"productIds": [str(products["shoes"])]})
    assert found == ["anna.kowalska@example.com", "ola_100%@example.com"]  # Bob's order was cancelled


def test_erased_customers_never_match(api, shop):
    store, _, _ = shop
    found, total = emails(api, api.key(store, "read"), {"search": "anna"})
    assert found == ["anna.kowalska@example.com"] and total == 1
    assert emails(api, api.key(store, "read"))[1] == 5


@pytest.mark.parametrize("sort, direction, expected", [
    ("NAME", "ASC", ["bob", "anna", "jan", "ola", "anon"]),
    ("NAME", "DESC", ["ola", "jan", "anna", "bob", "anon"]),
    ("CREATED", "ASC", ["anna", "jan", "ola", "bob", "anon"]),
    ("CREATED", "DESC", ["anon", "bob", "ola", "jan", "anna"]),
    # ties (no order yet, or the same total) follow the id in the same direction
    ("LAST_ORDER", "DESC", ["anna", "ola", "jan", "anon", "bob"]),
    ("LAST_ORDER", "ASC", ["jan", "ola", "anna", "bob", "anon"]),
    ("TOTAL_SPENT", "DESC", ["anna", "jan", "ola", "anon", "bob"]),
    ("TOTAL_SPENT", "ASC", ["bob", "anon", "ola", "jan", "anna"]),
])
def test_sorts_page_by_page_with_cursors(api, shop, sort, direction, expected):
    store, ids, _ = shop
    names = {value: name for name, value in ids.items()}
    key = api.key(store, "read")
    seen, after = [], None
    for _ in range(10):
        page = api.data(LIST, {"sort": sort, "direction": direction, "first": 2, "after": after}, key=key)["customers"]
        assert [edge["node"] for edge in page["edges"]] == [{"id": node["id"]} for node in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen.append([names[node["id"]] for node in page["nodes"]])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sum(seen, []) == expected
    # backward from the end: the same pages, read from the other side
    backward, before = [], None
    for _ in range(10):
        page = api.data(LIST, {"sort": sort, "direction": direction, "last": 2, "before": before}, key=key)["customers"]
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        backward.append([names[node["id"]] for node in page["nodes"]])
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert sum(reversed(backward), []) == expected
    assert backward == [expected[3:], expected[1:3], expected[:1]]
    # every edge's cursor pages from that row, both ways, nulls included
    cursors = [edge["cursor"] for edge in api.data(LIST, {"sort": sort, "direction": direction, "first": 5},
                                                   key=key)["customers"]["edges"]]
    for index, cursor in enumerate(cursors):
        after_it = api.data(LIST, {"sort": sort, "direction": direction, "first": 5, "after": cursor}, key=key)["customers"]
        before_it = api.data(LIST, {"sort": sort, "direction": direction, "last": 5, "before": cursor}, key=key)["customers"]
        assert [names[node["id"]] for node in after_it["nodes"]] == expected[index + 1:]
        assert [names[node["id"]] for node in before_it["nodes"]] == expected[:index]
        assert after_it["pageInfo"]["hasNextPage"] is False and before_it["pageInfo"]["hasPreviousPage"] is False


def test_cursor_of_another_sort_or_garbage_is_refused(api, shop):
    store, _, _ = shop
    key = api.key(store, "read")
    cursor = api.data(LIST, {"sort": "NAME", "first": 1}, key=key)["customers"]["pageInfo"]["endCursor"]
    assert api.error_codes(LIST, {"sort": "CREATED", "after": cursor}, key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(LIST, {"sort": "CREATED", "before": cursor}, key=key) == ["BAD_USER_INPUT"]
    assert api.error_codes(LIST, {"sort": "NAME", "direction": "ASC", "before": cursor}, key=key) == ["BAD_USER_INPUT"]
    for garbage in ("x", "%%%", "eyJ9", "W10", "WyJOQU1FIiwiREVTQyIsWzEsMiwzXV0"):
        assert api.error_codes(LIST, {"after": garbage}, key=key) == ["BAD_USER_INPUT"]
        assert api.error_codes(LIST, {"before": garbage}, key=key) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("variables", [
    {"first": 1_000_000}, {"first": 0}, {"first": -5}, {"last": 0}, {"last": 1_000_000},
    {"first": 2, "last": 2}, {"first": 2, "before": "x"}, {"last": 2, "after": "x"},
    {"filter": {"countries": ["Poland"]}},
    {"filter": {"spentMin": "10", "spentMax": "5"}},
    {"filter": {"customerSinceFrom": "2026-01-02", "customerSinceTo": "2026-01-01"}},
    {"filter": {"ordersMin": -1}},
    {"filter": {"search": "x" * 201}},
    {"filter": {"productIds": ["abc"]}},
    {"filter": {"segmentId": "999999999"}},
    {"filter": {"segmentId": global_id("Segment", 999999999)}},
    {"filter": {"segmentId": global_id("Customer", 1)}},
    {"filter": {"tags": ["t"] * 1001}},
    {"filter": {"rfm": {"preset": "LAST_30_DAYS", "range": {"from": "2026-01-01", "to": "2026-01-02"}}}},
    {"filter": {"rfm": {"cells": [{"r": 9, "fm": 1}]}}},
    {"filter": {"rfm": {"range": {"from": "2026-02-01", "to": "2026-01-01"}}}},
])
def test_bad_input_is_a_typed_error(api, shop, variables):
    store, _, _ = shop
    codes = api.error_codes(LIST, variables, key=api.key(store, "read"))
    assert codes and set(codes) <= {"BAD_USER_INPUT", "NOT_FOUND"}


def test_another_store_sees_none_of_these(api, shop, make_store):
    other = make_store()
    assert emails(api, api.key(other, "read"), {"search": "anna"}) == ([], 0)


FACETS = """query($filter: CustomerFilter) { customers(filter: $filter, first: 1) { facets {
  countries { value count } products { label count } revenueBands { value count } customerSince { value count } } } }"""


def test_facets_count_the_current_filter(api, shop):
    store, _, _ = shop
    key = api.key(store, "read")
    facets = api.data(FACETS, key=key)["customers"]["facets"]
    assert facets["countries"] == [{"value": "PL", "count": 2}, {"value": "DE", "count": 1},
                                   {"value": "US", "count": 1}, {"value": None, "count": 1}]
    assert facets["products"] == [{"label": "Hat", "count": 2}, {"label": "Shoes", "count": 2}]
    assert facets["revenueBands"] == [{"value": "TOP", "count": 2}, {"value": "MIDDLE", "count": 1},
                                      {"value": "BOTTOM", "count": 0}, {"value": "NONE", "count": 2}]
    assert facets["customerSince"] == [{"value": "2026", "count": 2}, {"value": "2025", "count": 3}]
    only_pl = api.data(FACETS, {"filter": {"countries": ["PL"]}}, key=key)["customers"]["facets"]
    assert only_pl["countries"] == [{"value": "PL", "count": 2}]
    assert only_pl["products"] == [{"label": "Hat", "count": 2}, {"label": "Shoes", "count": 1}]
    assert only_pl["customerSince"] == [{"value": "2025", "count": 2}]
