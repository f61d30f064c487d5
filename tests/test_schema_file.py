"""The committed schema.graphql is exactly what the code generates."""

from pathlib import Path

from crm_graph.graphql.schema import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_code():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql is out of date: run `crm-graph schema --output schema.graphql` and commit it"
    )


def test_every_field_has_a_description():
    from crm_graph.graphql.schema import schema

    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not hasattr(graphql_type, "fields"):
            continue
        for field_name, field in graphql_type.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []
