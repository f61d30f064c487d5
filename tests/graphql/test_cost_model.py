"""The cost model of the real schema: every field that reads data is priced, attacks are refused,
realistic screens are well under the default limit."""

from __future__ import annotations

from graphql import (
    GraphQLObjectType, get_named_type, is_leaf_type, is_required_argument, parse,
)

from crm_graph.graphql.cost import _declared_cost, operation_cost
from crm_graph.graphql.schema import MAX_COST, schema

GRAPHQL = schema._schema
#: Arguments that make a field read more: a range of days or a number of rows.
SIZE_ARGUMENTS = {"range", "preset", "from", "to", "first", "limit", "granularity"}


def _resolver_is_async(definition) -> bool:
    field = (definition.extensions or {}).get("strawberry-definition")
    resolver = getattr(field, "base_resolver", None)
    return bool(resolver is not None and resolver.is_async)


def unpriced_fields() -> list[str]:
    """Query fields, fields taking a range or a page size, and async resolvers without a cost declaration."""
    missing = []
    roots = {GRAPHQL.query_type.name}
    for type_ in GRAPHQL.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__") or \
                type_ is GRAPHQL.mutation_type:
            continue
        for name, definition in type_.fields.items():
            reads = (type_.name in roots or SIZE_ARGUMENTS & set(definition.args)
                     or _resolver_is_async(definition))
            if reads and _declared_cost(definition) is None:
                missing.append(f"{type_.name}.{name}")
    return missing


def test_every_field_that_reads_data_declares_its_cost_and_documents_it():
    assert unpriced_fields() == []
    for type_ in GRAPHQL.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for name, definition in type_.fields.items():
                if _declared_cost(definition) is not None:
                    assert "Cost: " in (definition.description or ""), f"{type_.name}.{name}"


def test_the_check_sees_an_unpriced_field():
    query = GRAPHQL.query_type
    field = query.fields["store"]
    extensions = dict(field.extensions)
    strawberry_field = extensions["strawberry-definition"]
    saved = strawberry_field.metadata
    strawberry_field.metadata = {}
    try:
        assert unpriced_fields() == ["Query.store"]
    finally:
        strawberry_field.metadata = saved


def selection(type_, depth: int) -> str:
    """Every field without required arguments, to `depth` levels: a whole screen of `type_`."""
    parts = []
    for name, definition in type_.fields.items():
        if any(is_required_argument(arg) for arg in definition.args.values()):
            continue
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            parts.append(name)
        elif depth > 1 and isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {selection(named, depth - 1)} }}")
    return " ".join(parts) or "__typename"


def cost(query: str, variables: dict | None = None) -> int:
    return operation_cost(GRAPHQL, parse(query), None, variables)


DASHBOARD = f"{{ dashboard(preset: LAST_30_DAYS) {{ {selection(GRAPHQL.type_map['Dashboard'], 3)} }} }}"
SCREENS = {
    "dashboard": DASHBOARD,
    "rfm of a year": '{ rfmGrid(range: {from: "2025-01-01", to: "2025-12-31"}) { scheme } }',
    "rfm preset": "{ rfmGrid(preset: LAST_365_DAYS) { scheme } }",
    "lifecycle of two years": '{ lifecycleStages(range: {from: "2024-01-01", to: "2025-12-31"}, granularity: MONTH) '
                              "{ label buyers } }",
    "period kpis of a year": '{ periodKpis(preset: LAST_365_DAYS, granularity: WEEK) { __typename } }',
    "customer 360": f'{{ customer(id: "1") {{ {selection(GRAPHQL.type_map["Customer"], 3)} }} }}',
    "customer list": "{ customers(first: 200) { totalCount pageInfo { endCursor } nodes { id email identities { source } "
                     "tags { name } revenue { orders } spenderSegment { value } lifecycleStage rfm { segment } } "
                     "facets { countries { value count } products { value count } revenueBands { value count } "
                     "customerSince { value count } } } }",
}


def test_realistic_screens_are_well_under_the_limit(api, store):
    key = api.key(store, "read")
    for name, query in SCREENS.items():
        assert cost(query) <= MAX_COST // 2, (name, cost(query))
        body = api.post(query, key=key)
        assert not body.get("errors"), (name, body["errors"])
    assert cost(DASHBOARD) == 20 + 30 + 8  # the range, and 1 per widget


def test_thirty_aliases_of_a_long_lifecycle_are_refused_by_cost(api, store):
    key = api.key(store, "read")
    aliases = " ".join(f'l{i}: lifecycleStages(range: {{from: "2023-01-01", to: "2025-09-26"}}) {{ label buyers }}'
                       for i in range(30))
    body = api.post(f"{{ {aliases} }}", key=key)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] == 30 * (20 + 1000)


def test_pages_multiply_their_rows_not_their_counts():
    assert cost("{ customers(first: 200) { totalCount } }") == 200 + 10
    assert cost("{ customers(first: 200) { nodes { identities { source } } } }") == 200 + 200
    # the RFM of a range is computed once for all rows of the request: counted once
    assert cost("{ customers(first: 200) { nodes { rfm(preset: LAST_7_DAYS) { segment } } } }") == 200 + 27
    assert cost("{ customers(last: 200) { totalCount } }") == 200 + 10
    assert cost("{ customers(first: 10) { nodes { orders(first: 5) { nodes { lines { sku } } } } } }") == 10 + 10 * (5 + 5)
    assert cost("{ customers(first: 10) { nodes { orders(last: 5) { edges { node { lines { sku } } } } } } }") == 10 + 10 * (5 + 5)
    assert cost('{ segments(first: 2) { nodes { countHistory(from: "2026-01-01", to: "2026-01-31") { day } } } }') == 2 + 2 * 32
    assert cost('{ segments(last: 3) { totalCount } }') == 3 + 1
    assert cost("{ apiKeys { nodes { id } } }") == 50
    assert cost("{ jobs(first: 10) { nodes { errors(first: 50) { message } errorCount } } }") == 10 + 10 * 51


def test_ranges_the_resolvers_refuse_cost_their_base_only():
    assert cost('{ rfmGrid(range: {from: "1976-01-01", to: "2026-01-01"}) { scheme } }') == 20
    assert cost("{ rfmGrid { scheme } }") == 50
    assert cost("{ rfmGrid(preset: TODAY) { scheme } }") == 21
