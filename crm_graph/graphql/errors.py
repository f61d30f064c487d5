"""How errors reach clients: stable codes for what the caller can fix, masked ids for our bugs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from crm_graph.errors import UserError

log = logging.getLogger("crm_graph.graphql")


def graphql_error(message: str, code: str, **extensions) -> GraphQLError:
    """A GraphQL error with ``extensions.code`` set, for resolvers to raise."""
    return GraphQLError(message, extensions={"code": code, **extensions})


class ErrorCodes(SchemaExtension):
    """Gives every error a code; masks unexpected exceptions behind an id that is logged.

    - A `UserError` raised by a service keeps its message and gets its `code`.
    - A `GraphQLError` (validation, limits, or raised on purpose) is left as it is.
    - Anything else is an internal error: the client sees "Internal error <id>", the log has the
      traceback under the same id.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._process(error) for error in result.errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, UserError):
            return GraphQLError(
                str(original), nodes=error.nodes, source=error.source, positions=error.positions,
                path=error.path, extensions={**(error.extensions or {}), "code": original.code},
            )
        if original is None or isinstance(original, GraphQLError):
            return error
        error_id = uuid.uuid4().hex[:12]
        log.error("internal error %s at %s", error_id, error.path, exc_info=original)
        return GraphQLError(
            f"Internal error {error_id}; the server log has the details.",
            nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )
