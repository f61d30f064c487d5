"""What a schema change breaks for clients: graphql-core's comparison of two schemas, as a report.

The last released schema is kept in `docs/api/schema-<version>.graphql`. `CHANGELOG.md` records,
under the unreleased version, the report of the code's schema against it (`crm-graph schema
--changes-since docs/api/schema-<version>.graphql`), and a test keeps the two equal: a change that
breaks clients cannot land without being written down where they read.
"""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

from crm_graph.graphql.schema import schema_sdl

#: Where the released schemas are kept, one file per version.
RELEASED_SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "api"


def latest_released_schema() -> Path:
    """The file of the newest released schema (`docs/api/schema-<version>.graphql`)."""
    files = sorted(RELEASED_SCHEMAS.glob("schema-*.graphql"),
                   key=lambda path: tuple(int(part) for part in path.stem.removeprefix("schema-").split(".")))
    if not files:
        raise FileNotFoundError(f"no released schema in {RELEASED_SCHEMAS}")
    return files[-1]


def change_report(old_sdl: str, new_sdl: str | None = None) -> list[str]:
    """Markdown list items: each breaking change, then each dangerous one, from `old_sdl` to `new_sdl`.

    `new_sdl` defaults to the schema the code builds. The lines are sorted, so the report is the
    same however graphql-core orders its findings.
    """
    old: GraphQLSchema = build_schema(old_sdl)
    new: GraphQLSchema = build_schema(new_sdl if new_sdl is not None else schema_sdl())
    breaking = sorted(f"- **{change.type.name}**: {change.description}" for change in find_breaking_changes(old, new))
    dangerous = sorted(f"- {change.type.name}: {change.description}" for change in find_dangerous_changes(old, new))
    return breaking + dangerous
