"""Refuses text no database column can hold, before any resolver sees it.

PostgreSQL text cannot contain NUL characters, and a lone UTF-16 surrogate (which JSON's
``\\ud800`` escape produces) cannot be encoded at all; either would reach the database driver as an
internal error in whichever resolver stored or searched it. Checking every string of the request
once, here, protects every field, including those added later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, StringValueNode, visit
from graphql.execution import ExecutionResult
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

_BAD = re.compile("[\x00\ud800-\udfff]")


def _bad_string(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _BAD.search(value) is not None
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(_bad_string(k, depth + 1) or _bad_string(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_bad_string(item, depth + 1) for item in value)
    return False


class _StringFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if _BAD.search(node.value):
            self.found = True


class TextGuard(SchemaExtension):
    """Refuses (BAD_USER_INPUT) a request whose variables or literals hold NUL or lone surrogates."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and self._has_bad_text():
            context.result = ExecutionResult(data=None, errors=[GraphQLError(
                "Text arguments may not contain NUL characters or unpaired surrogates.",
                extensions={"code": "BAD_USER_INPUT"},
            )])
        yield

    def _has_bad_text(self) -> bool:
        context = self.execution_context
        if _bad_string(context.variables or {}):
            return True
        query = context.query
        if query is not None and "\\u" not in query and not _BAD.search(query):
            return False  # no escape and no bad character: no literal can hold one
        finder = _StringFinder()
        if context.graphql_document is not None:
            visit(context.graphql_document, finder)
        return finder.found
