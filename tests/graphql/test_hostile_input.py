"""Hostile arguments for every root field that takes any: never a 500, never an internal error.

Hypothesis draws the arguments from the schema's own types (tests/graphql/schema_walk.py finds the
fields), so fields added later are covered without editing this file. Strings carry SQL
metacharacters, NUL bytes and unicode; numbers are huge or negative; dates are out of range or not
dates; lists are long and nested. Runs are derandomized and bounded, so CI is deterministic and fast.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLScalarType, is_required_input_field,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_graph.graphql.schema import schema
from tests.graphql.schema_walk import RequestBuilder, Samples, root_fields

GRAPHQL = schema._schema
FIELDS = [("query", name) for name in root_fields(GRAPHQL, "query")
          if GRAPHQL.query_type.fields[name].args] + \
         [("mutation", name) for name in root_fields(GRAPHQL, "mutation")
          if GRAPHQL.mutation_type.fields[name].args]

SQL_METACHARACTERS = [
    "' OR '1'='1", "'; DROP TABLE customer; --", '" OR ""="', "%", "_", "\\", "%' --", "1; SELECT pg_sleep(5)",
    "$$", "/*", "*/", "' UNION SELECT key_hash FROM api_key --", "\x00", "a\x00b", "NULL", "null", "🙂", "ǅ", "\u202e",
    "ß", "İ", "\ufeff", "x" * 5000, "9999999999999999999", "²", "١٢٣", "-1", "0", "1.5", "0x7fffffff", "-0", "1e309", "NaN", "Infinity", "",
]
WEIRD_NUMBERS = [0, -1, 1, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30]
WEIRD_DATES = ["0001-01-01", "9999-12-31", "1970-01-01", "2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10",
               "20260101", "yesterday", "", "2026-01-01T00:00:00", "2026-1-1", "١٢٣٤-٠١-٠١", "2026-03-29"]

text = st.one_of(st.sampled_from(SQL_METACHARACTERS), st.text(max_size=40))
numbers = st.one_of(st.sampled_from(WEIRD_NUMBERS), st.integers(-(2**40), 2**40))
dates = st.one_of(st.sampled_from(WEIRD_DATES), st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat))
any_json = st.recursive(st.one_of(st.none(), st.booleans(), numbers, text),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                        max_leaves=8)


def value_strategy(type_, depth: int = 0) -> st.SearchStrategy:
    """Values for a GraphQL input type: mostly of the type's shape, sometimes of the wrong one."""
    if isinstance(type_, GraphQLNonNull):
        return value_strategy(type_.of_type, depth)
    wrong = st.one_of(st.none(), text, numbers, st.lists(st.lists(numbers, max_size=2), max_size=2))
    if depth > 3:
        return wrong
    if isinstance(type_, GraphQLList):
        inner = value_strategy(type_.of_type, depth + 1)
        return st.one_of(st.lists(inner, max_size=4), st.lists(numbers.map(str), min_size=150, max_size=300))
    if isinstance(type_, GraphQLEnumType):
        return st.one_of(st.sampled_from(list(type_.values)), text)
    if isinstance(type_, GraphQLInputObjectType):
        required = {name: value_strategy(f.type, depth + 1) for name, f in type_.fields.items()
                    if is_required_input_field(f)}
        optional = {name: value_strategy(f.type, depth + 1) for name, f in type_.fields.items()
                    if not is_required_input_field(f)}
        return st.one_of(st.fixed_dictionaries(required, optional=optional), wrong)
    if isinstance(type_, GraphQLScalarType):
        return {
            "ID": st.one_of(text, numbers.map(str), numbers),
            "String": text,
            "Int": st.one_of(numbers, text),
            "Float": st.one_of(st.floats(allow_nan=False, allow_infinity=False), numbers),
            "Boolean": st.one_of(st.booleans(), text),
            "Date": dates,
            "DateTime": st.one_of(dates, dates.map(lambda d: f"{d}T23:59:59+14:00")),
            "Decimal": st.one_of(text, numbers.map(str), st.sampled_from(["1e400", "-0.000001", "NaN", "1" * 60])),
            "JSON": any_json,
        }.get(type_.name, st.one_of(text, numbers))
    return wrong


@pytest.fixture(scope="module")
def hostile_store(engine):
    """A store of its own with an admin key (hostile mutations may change it freely)."""
    from sqlmodel import Session

    from crm_graph.services.api_keys import create_api_key
    from tests.factories import StoreBuilder, StoreFactory, utc

    store = StoreFactory(engine)(timezone="Pacific/Kiritimati")
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, store)
        customer = builder.customer(email="h@example.com")
        builder.order(customer, "12.00", utc(2026, 1, 1))
        _, plain = create_api_key(session, store, "admin")
        builder.commit()
    return plain


@pytest.fixture(scope="module")
def client(engine, db_url, tmp_path_factory):
    """A test client of the app on this module's database."""
    from crm_graph.settings import Settings
    from tests.conftest import app_client

    files = tmp_path_factory.mktemp("files")
    settings = Settings(database_url=db_url, _env_file=None, import_dir=str(files / "imports"),
                        export_dir=str(files / "exports"))
    with app_client(settings) as test_client:
        yield test_client


def _post(client, key: str, query: str, variables: dict):
    body = json.dumps({"query": query, "variables": variables}).encode()
    return client.post("/graphql", content=body,
                       headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


def _assert_handled(response, query, variables) -> None:
    assert response.status_code < 500, (query, variables, response.text)
    if response.status_code == 200:
        errors = response.json().get("errors") or []
        codes = [e.get("extensions", {}).get("code") for e in errors]
        assert "INTERNAL_SERVER_ERROR" not in codes, (query, variables, errors)
        assert all(codes), (query, variables, errors)


@pytest.mark.parametrize(("operation", "field_name"), FIELDS, ids=[f"{op}.{name}" for op, name in FIELDS])
@settings(max_examples=12, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_arguments_are_refused_cleanly(client, hostile_store, operation, field_name, data):
    definition = (GRAPHQL.query_type if operation == "query" else GRAPHQL.mutation_type).fields[field_name]
    arguments = {}
    for name, arg in definition.args.items():
        required = isinstance(arg.type, GraphQLNonNull)
        if required or data.draw(st.booleans(), label=f"give {name}"):
            arguments[name] = data.draw(value_strategy(arg.type), label=name)
    samples = Samples(ids={}, first_day="2026-01-01", last_day="2026-01-31", fill_optional_ids=False)
    request = RequestBuilder(GRAPHQL, samples, max_depth=2).build(operation, field_name, arguments=arguments)
    _assert_handled(_post(client, hostile_store, request.query, request.variables), request.query, request.variables)


@pytest.mark.parametrize("query", [
    "{" * 3000,
    "{ store " + "{ __typename " * 400 + "}" * 401,
    "query { " + " ".join(f"a{i}: store {{ id }}" for i in range(200)) + " }",
    "{ store { id } } " * 3000,
    "query($x: [[[[[[[[ID]]]]]]]]) { store { id } }",
    "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType "
    "{ ofType { ofType { ofType { name } } } } } } } } } } } } } }",
    "fragment f on Query { ...g } fragment g on Query { ...f } { ...f }",
    "{ customers(first: 99999999999) { totalCount } }",
    "{ customers(first: -5) { totalCount } }",
    "mutation { apiKeyCreate(role: READ, name: \"a\\u0000b\") { key } }",
    "{ customers(after: \"9999999999999999999\") { totalCount } }",
    "{ customers(after: \"²\") { totalCount } }",
    "{ customer(id: \"" + "9" * 400 + "\") { id } }",
    "mutation { store { id } }",
    "subscription { store { id } }",
    "",
    "\x00",
])
def test_hostile_documents_are_refused_cleanly(client, hostile_store, query):
    _assert_handled(_post(client, hostile_store, query, {}), query, {})
