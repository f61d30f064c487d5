"""What the segment mutations return: the segment as its GraphQL type, or a typed error with its field path."""

from __future__ import annotations

import re
from typing import Any

from crm_graph.errors import UserError
from crm_graph.graphql.mutation_errors import error_result, is_user_error
from crm_graph.graphql.segments.types import SegmentType

#: A message that starts by naming the input field at fault, e.g. "`filter.spentMin`: ...".
_NAMED_FIELD = re.compile(r"`([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)`")


def input_error(exc: UserError, argument: str | None = "input") -> Any:
    """The typed error of `exc` with its field path from the mutation's arguments.

    A service names a field of the segment (`name`, `filter.segmentId`) or the segment's own `id`;
    an error without a `field` whose message starts by naming one (the filter's checks) gets that
    one. Fields of the segment are under `argument` (`["input", "filter", "segmentId"]`), or name
    no argument when it is None (a saved filter that no longer compiles); `id` is the mutation's own
    argument.
    """
    error = error_result(exc)
    path = error.field
    if path is None:
        named = _NAMED_FIELD.match(str(exc))
        path = named.group(1).split(".") if named else None
    if path is not None and path[0] != "id":
        path = [argument, *path] if argument is not None else None
    error.field = path
    return error


def segment_result(result: Any) -> Any:
    """The segment row as its GraphQL type, or the typed error unchanged."""
    return result if is_user_error(result) else SegmentType.from_model(result)
