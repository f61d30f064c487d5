"""The request cost limit: declared costs, summed over the operation, refused before execution."""

from __future__ import annotations

from datetime import date

import strawberry

from crm_graph.graphql.cost import QueryCostLimiter, days_in_range, field_cost, operation_cost, page_cost, series_cost
from crm_graph.graphql.errors import ErrorCodes


@strawberry.input
class RangeInput:
    from_: date = strawberry.field(name="from", description="First day.")
    to: date = strawberry.field(description="Last day.")


@strawberry.type
class Point:
    value: int = strawberry.field(description="A value.")


@strawberry.type
class Row:
    id: int = strawberry.field(description="An id.")

    @strawberry.field(description="A daily series.", metadata=series_cost("range", granularity="granularity"))
    def series(self, range: RangeInput | None = None, granularity: str = "DAY") -> list[Point]:
        return []


calls: list[str] = []


@strawberry.type
class Query:
    @strawberry.field(description="A page.", metadata=page_cost("first", default=10, max_size=1000))
    def rows(self, first: int = 10) -> list[Row]:
        calls.append("rows")
        return [Row(id=i) for i in range(min(first, 3))]

    @strawberry.field(description="Fixed cost.", metadata=field_cost(7))
    def seven(self) -> int:
        return 7

    @strawberry.field(description="Free.")
    def free(self) -> int:
        return 0


SCHEMA = strawberry.Schema(query=Query, extensions=[ErrorCodes, lambda: QueryCostLimiter(max_cost=1000)])


def cost(query: str, variables: dict | None = None) -> int:
    from graphql import parse

    return operation_cost(SCHEMA._schema, parse(query), None, variables)


def test_costs_add_up_and_pages_repeat_what_they_hold():
    assert cost("{ free }") == 0
    assert cost("{ seven a: seven }") == 14
    assert cost("{ rows { id } }") == 10
    assert cost("{ rows(first: 20) { id } }") == 20
    # 20 rows, each with a 31-day series: 20 + 20 x 31
    assert cost('{ rows(first: 20) { series(range: {from: "2026-01-01", to: "2026-01-31"}) { value } } }') == 640
    assert cost('{ rows(first: 2) { series(range: {from: "2026-01-01", to: "2026-12-31"}, granularity: "WEEK") '
                '{ value } } }') == 2 + 2 * 53
    assert cost("{ rows(first: 1) { series { value } } }") == 1 + 366  # no range: a year


def test_costs_follow_variables_and_fragments():
    query = "query($n: Int!) { ...F } fragment F on Query { rows(first: $n) { ... on Row { id } } seven }"
    assert cost(query, {"n": 40}) == 47
    assert cost("query($r: RangeInput) { rows(first: 1) { series(range: $r) { value } } }",
                {"r": {"from": "2020-01-01", "to": "2020-01-10"}}) == 11


def test_page_costs_stop_at_the_page_size_limit():
    assert cost("{ rows(first: 5000) { id } }") == 1000


def test_a_costly_request_is_refused_before_it_runs():
    calls.clear()
    result = SCHEMA.execute_sync('{ rows(first: 40) { series(range: {from: "2026-01-01", to: "2026-12-31"}) '
                                 '{ value } } }')
    assert result.data is None
    assert result.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"
    assert result.errors[0].extensions["cost"] == 40 + 40 * 365
    assert calls == []
    assert SCHEMA.execute_sync("{ rows(first: 3) { id } }").errors is None and calls == ["rows"]


def test_days_in_range_reads_every_shape():
    assert days_in_range({"from": "2026-01-01", "to": "2026-01-01"}) == 1
    assert days_in_range({"from": date(2026, 1, 31), "to": date(2026, 1, 1)}) == 31
    assert days_in_range({"from": "garbage", "to": "2026-01-01"}) is None
    assert days_in_range(None) is None


def test_the_api_refuses_costly_customer_pages(api, store):
    key = api.key(store, "read")
    many = " ".join(f"p{i}: customers(first: 200) {{ totalCount }}" for i in range(26))
    assert api.error_codes(f"{{ {many} }}", key=key) == ["QUERY_TOO_COSTLY"]
    few = " ".join(f"p{i}: customers(first: 200) {{ totalCount }}" for i in range(3))
    assert api.data(f"{{ {few} }}", key=key)["p0"]["totalCount"] == 0


def test_limits_have_codes(api, store):
    key = api.key(store, "read")
    deep = "{ customers { nodes { identities { source } } } }"
    assert api.data(deep, key=key)
    aliases = " ".join(f"s{i}: store {{ slug }}" for i in range(31))
    assert api.error_codes(f"{{ {aliases} }}", key=key) == ["TOO_MANY_ALIASES"]
    tokens = "{ store { " + "id " * 5001 + "} }"
    assert api.error_codes(tokens, key=key) == ["TOO_MANY_TOKENS"]
    assert api.error_codes("{ store { ", key=key) == ["GRAPHQL_PARSE_FAILED"]
    assert api.error_codes("{ nope }", key=key) == ["GRAPHQL_VALIDATION_FAILED"]
    assert api.error_codes("query($id: ID!) { customer(id: $id) { id } }", key=key) == ["BAD_USER_INPUT"]
