"""The API's conventions, checked over the whole schema so that a new field cannot break them.

What a frontend developer relies on (README, "API conventions"): noun-first mutations that return
`<Name>Result` unions of their object and `UserError`s; lists that grow without bound are Relay
connections and every other list says its bound; fetchable objects are `Node`s with global ids;
money is `Money`; a figure compared with an earlier one is a `Comparison`; descriptions are for
clients; and every change that breaks clients since the last release is written in CHANGELOG.md.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType,
    GraphQLUnionType, get_named_type, get_nullable_type,
)

from crm_graph.graphql.schema import schema
from crm_graph.graphql.schema_changes import change_report, latest_released_schema

SCHEMA = schema._schema
ROOT = Path(__file__).resolve().parents[2]

#: The last word of every mutation name: what it does to the noun(s) before it.
MUTATION_VERBS = ("Create", "Update", "Delete", "Erase", "Set", "Tag", "Untag", "Export", "Import", "Register",
                  "Sync", "Start", "Revoke", "Refresh")
#: Words a mutation name must not start with (verb-first names).
VERBS = {verb.lower() for verb in MUTATION_VERBS} | {"add", "remove", "run", "get", "make", "start", "stop"}

#: Output fields of type Decimal that are not money, and why.
NOT_MONEY = {
    "Money.amount": "the amount of a Money",
    "DecimalComparison.value": "a non-money average (e.g. orders per customer)",
    "DecimalComparison.previous": "as value",
    "DecimalComparison.change": "as value",
    "AcquisitionChannel.ltvToCac": "a ratio of two amounts",
}
#: Words that, in a field's name, say it is an amount of money.
MONEY_WORDS = {"revenue", "spent", "spend", "amount", "price", "discount", "shipping", "tax", "refunds", "sales", "ltv",
               "cac", "monetary", "subtotal", "total"}
BOUND = re.compile(r"\bat most [0-9][0-9,]*\b")


def _types():
    return [t for name, t in SCHEMA.type_map.items() if not name.startswith("__")]


def _fields():
    for graphql_type in _types():
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, field in graphql_type.fields.items():
                yield graphql_type, name, field


def _implements(graphql_type, interface_name: str) -> bool:
    return any(interface.name == interface_name for interface in getattr(graphql_type, "interfaces", ()))


def test_every_mutation_is_noun_first_and_returns_its_result_union():
    wrong = []
    for name, field in SCHEMA.mutation_type.fields.items():
        words = re.findall(r"[a-z]+|[A-Z][a-z]*", name)
        if words[0] in VERBS or words[-1] not in MUTATION_VERBS or len(words) < 2:
            wrong.append(f"{name}: not `<noun…><Verb>` with a verb of {MUTATION_VERBS}")
        if not isinstance(field.type, GraphQLNonNull) or not isinstance(field.type.of_type, GraphQLUnionType):
            wrong.append(f"{name}: does not return a non-null union")
            continue
        union = field.type.of_type
        if union.name != name[0].upper() + name[1:] + "Result":
            wrong.append(f"{name}: returns {union.name}, not {name[0].upper() + name[1:]}Result")
        errors = [member for member in union.types if _implements(member, "UserError")]
        objects = [member for member in union.types if not _implements(member, "UserError")]
        if not errors or len(objects) != 1:
            wrong.append(f"{name}: {union.name} is not one object and its UserErrors")
    assert wrong == []


def test_user_errors_have_a_code_enum_a_message_and_a_field_path():
    user_error = SCHEMA.type_map["UserError"]
    assert isinstance(user_error, GraphQLInterfaceType)
    assert isinstance(get_nullable_type(user_error.fields["code"].type), GraphQLEnumType)
    assert str(user_error.fields["message"].type) == "String!"
    assert str(user_error.fields["field"].type) == "[String!]"
    implementations = [t.name for t in _types() if _implements(t, "UserError")]
    assert {"ValidationError", "NotFoundError", "ConflictError"} <= set(implementations)


def test_every_list_of_objects_is_a_connection_or_says_its_bound():
    unbounded = []
    for parent, name, field in _fields():
        nullable = get_nullable_type(field.type)
        if not isinstance(nullable, GraphQLList):
            continue
        if not isinstance(get_named_type(field.type), (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            continue
        if parent.name.endswith("Connection") and name in ("edges", "nodes"):
            continue
        if not BOUND.search(field.description or ""):
            unbounded.append(f"{parent.name}.{name}")
    assert unbounded == [], "make these connections, or say their bound (`at most N`) in the description"


def test_connections_follow_the_relay_cursor_specification():
    connections = [t for t in _types() if isinstance(t, GraphQLObjectType) and t.name.endswith("Connection")]
    assert {"CustomerConnection", "JobConnection", "SegmentConnection", "ApiKeyConnection"} <= {c.name for c in connections}
    page_info = SCHEMA.type_map["PageInfo"]
    assert {name: str(f.type) for name, f in page_info.fields.items()} == {
        "hasNextPage": "Boolean!", "hasPreviousPage": "Boolean!", "startCursor": "String", "endCursor": "String",
    }
    for connection in connections:
        node = connection.name.removesuffix("Connection")
        fields = {name: str(f.type) for name, f in connection.fields.items()}
        assert fields["edges"] == f"[{node}Edge!]!", connection.name
        assert fields["nodes"] == f"[{node}!]!", connection.name
        assert fields["pageInfo"] == "PageInfo!", connection.name
        assert fields["totalCount"] == "Int!", connection.name
        edge = SCHEMA.type_map[f"{node}Edge"]
        assert {name: str(f.type) for name, f in edge.fields.items()} == {"cursor": "String!", "node": f"{node}!"}
    for parent, name, field in _fields():
        if get_named_type(field.type).name.endswith("Connection"):
            assert {"first", "after", "last", "before"} <= set(field.args), f"{parent.name}.{name}"


def test_fetchable_objects_are_nodes_with_global_ids():
    node = SCHEMA.type_map["Node"]
    assert {name: str(f.type) for name, f in node.fields.items()} == {"id": "ID!"}
    nodes = {t.name for t in _types() if _implements(t, "Node")}
    assert {"Customer", "Order", "Segment", "Job", "ApiKey", "Connector"} <= nodes
    assert str(SCHEMA.query_type.fields["node"].type) == "Node"
    assert str(SCHEMA.query_type.fields["nodes"].type) == "[Node]!"
    # An `id` that is not a global id would collide in clients' caches: only Nodes have one.
    not_nodes = [f"{parent.name}.id" for parent, name, field in _fields()
                 if name == "id" and parent.name not in nodes and parent.name != "Node"]
    assert not_nodes == []


def _reads_like_money(name: str) -> bool:
    return any(word.lower() in MONEY_WORDS for word in re.findall(r"[a-z]+|[A-Z][a-z]*", name))


def test_money_is_money():
    wrong = []
    for parent, name, field in _fields():
        named = get_named_type(field.type).name
        key = f"{parent.name}.{name}"
        if named == "Decimal" and key not in NOT_MONEY:
            wrong.append(f"{key} is a bare Decimal")
        elif named in ("Decimal", "Float", "String") and _reads_like_money(name) and key not in NOT_MONEY:
            wrong.append(f"{key} ({named}) reads like money")
    assert wrong == []


def test_comparisons_share_one_shape():
    comparisons = [t for t in _types() if _implements(t, "Comparison")]
    assert len(comparisons) >= 5
    for comparison in comparisons:
        fields = comparison.fields
        assert {"value", "previous", "change", "relativeChange"} <= set(fields), comparison.name
        assert str(fields["relativeChange"].type) == "Float", comparison.name
        assert get_named_type(fields["value"].type) == get_named_type(fields["previous"].type) == get_named_type(
            fields["change"].type), comparison.name
    # No figure is compared by another shape (`previousCount`, `previousSeconds` …).
    other = [f"{parent.name}.{name}" for parent, name, _ in _fields()
             if name.startswith("previous") and name != "previous" and not _implements(parent, "Comparison")
             and name not in ("previousRange",)]
    assert other == []


def test_descriptions_are_for_clients():
    texts = []
    for graphql_type in _types():
        if graphql_type not in (SCHEMA.query_type, SCHEMA.mutation_type):  # the roots: their fields say it
            texts.append((graphql_type.name, graphql_type.description))
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for name, field in graphql_type.fields.items():
                texts.append((f"{graphql_type.name}.{name}", field.description))
                for arg_name, arg in getattr(field, "args", {}).items():
                    texts.append((f"{graphql_type.name}.{name}({arg_name})", arg.description))
    missing = [where for where, text in texts if not text]
    internal = [where for where, text in texts if text and re.search(r"\bSPEC\b|§", text)]
    assert missing == []
    assert internal == []


def test_graphql_types_have_one_adapter_name():
    adapters = []
    for graphql_type in _types():
        definition = (graphql_type.extensions or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if origin is None:
            continue
        for name, member in inspect.getmembers(origin):
            if name.startswith("from_") and name != "from_model" and inspect.ismethod(member):
                adapters.append(f"{origin.__qualname__}.{name}")
    assert adapters == []


def test_changelog_records_every_change_since_the_last_release():
    released = latest_released_schema()
    version = released.stem.removeprefix("schema-")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- changes since {re.escape(version)}: begin -->\n(.*?)<!-- changes since "
                      rf"{re.escape(version)}: end -->", changelog, re.S)
    assert match, f"CHANGELOG.md has no generated list of the changes since {version}"
    recorded = [line for line in match.group(1).splitlines() if line.startswith("- ")]
    expected = change_report(released.read_text(encoding="utf-8"))
    assert recorded == expected, (
        f"the schema's changes since {version} differ from CHANGELOG.md: run `crm-graph schema --changes-since "
        f"docs/api/schema-{version}.graphql` and record them"
    )


@pytest.mark.parametrize("old, new, expected", [
    ("type Query { a: Int b: String }", "type Query { a: Int }", "- **FIELD_REMOVED**: Field Query.b was removed."),
    ("type Query { a(x: Int): Int }", "type Query { a(x: Int, y: Int): Int }", "- OPTIONAL_ARG_ADDED: An optional argument Query.a(y:) was added."),
])
def test_the_change_report_names_breaking_and_dangerous_changes(old, new, expected):
    assert expected in change_report(old, new)
