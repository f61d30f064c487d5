"""Every GraphQL example of the documentation and every query of the benchmark scripts is valid
against the schema the code generates, so that the examples cannot drift from the API.

The documents are the ```graphql blocks of README.md and docs/*.md, and the GraphQL strings that
the benchmark scripts send (module-level constants, including those built from f-strings).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from crm_graph.graphql.schema import schema_sdl

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BENCH_SCRIPTS = [
    "_harness.py", "bench_customers.py", "bench_dashboard.py", "bench_figures.py", "bench_freshness.py",
    "bench_rfm_period.py", "fault_redis.py",
]
_BLOCK = re.compile(r"^```graphql[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_OPERATION = re.compile(r"^\s*(\{|query\b|mutation\b|subscription\b)")


def graphql_blocks(path: Path) -> list[tuple[str, str]]:
    """(where, text) of each ```graphql block of a Markdown file; `where` is `file:line`."""
    text = path.read_text(encoding="utf-8")
    return [(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}", match.group(1))
            for match in _BLOCK.finditer(text)]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def script_documents(path: Path) -> list[tuple[str, str]]:
    """(where, text) of the GraphQL documents among a script's module-level constants.

    The constants are evaluated without importing the script (nothing of it runs): only literals,
    f-strings, earlier constants and `str` methods, so a constant built from anything else is skipped.
    """
    namespace: dict[str, object] = {}
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if not isinstance(target, ast.Name) or not target.id.isupper() or node.value is None:
            continue
        try:
            value = eval(compile(ast.Expression(node.value), str(path), "eval"),  # noqa: S307
                         {"__builtins__": {}}, namespace)
        except Exception:  # noqa: BLE001  (a constant that is not built from strings alone)
            continue
        namespace[target.id] = value
        found += [(f"{path.relative_to(ROOT)}:{node.lineno} {target.id}", text)
                  for text in _strings(value) if _OPERATION.match(text)]
    return found


def validation_errors(graphql_schema: GraphQLSchema, documents: list[tuple[str, str]]) -> list[str]:
    """One line per document that does not parse or does not validate against the schema."""
    errors = []
    for where, text in documents:
        try:
            problems = validate(graphql_schema, parse(text))
        except Exception as exc:  # noqa: BLE001  (a syntax error is a finding like any other)
            problems = [exc]
        errors += [f"{where}: {problem}" for problem in problems]
    return errors


@pytest.fixture(scope="module")
def generated_schema() -> GraphQLSchema:
    return build_schema(schema_sdl())


def test_documentation_examples_are_valid(generated_schema):
    documents = [block for path in DOCUMENTS for block in graphql_blocks(path)]
    assert len(documents) >= 10, "the ```graphql blocks of the documentation were not found"
    assert validation_errors(generated_schema, documents) == []


@pytest.mark.parametrize("script", BENCH_SCRIPTS)
def test_benchmark_queries_are_valid(generated_schema, script):
    documents = script_documents(ROOT / "bench" / script)
    assert documents, f"no GraphQL document found in bench/{script}"
    assert validation_errors(generated_schema, documents) == []
