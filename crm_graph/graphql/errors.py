"""How errors reach clients: stable codes for what the caller can fix, masked ids for our bugs.

Every error a client receives has ``extensions.code``:

- GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT (a variable of the wrong type),
  QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_TOKENS, QUERY_TOO_COSTLY: the request itself is refused;
- UNAUTHENTICATED, FORBIDDEN: the API key is missing, wrong, revoked, or lacks the role;
- a `UserError`'s code (BAD_USER_INPUT, NOT_FOUND, ...): the service refused the arguments;
- SERVICE_UNAVAILABLE: the database could not be reached; retry later;
- TOO_MANY_REQUESTS: the store (or the server) has too many requests running; retry after
  ``extensions.retryAfter`` seconds (see `fairness`);
- QUERY_TIMEOUT: a database statement ran longer than the statement timeout and was stopped;
- INTERNAL_SERVER_ERROR: a bug; the message only carries an id, the log has the traceback.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, OperationalError
from strawberry.extensions import SchemaExtension

from crm_graph.errors import UserError

log = logging.getLogger("crm_graph.graphql")

#: Codes of the errors Strawberry's token limiter raises without one, recognised by their message (our
#: own limits, `graphql/limits.py`, set their codes themselves).
_LIMIT_CODES = (
    (re.compile(r"more than \d+ tokens"), "TOO_MANY_TOKENS"),
)

#: How graphql-core words a value that does not fit its type (the original error is the scalar's).
_COERCION_PREFIXES = ("Variable ", "Expected value of type", "Argument ")


def graphql_error(message: str, code: str, **extensions) -> GraphQLError:
    """A GraphQL error with ``extensions.code`` set, for resolvers to raise."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (as opposed to a bad query of ours)."""
    if is_query_timeout(exc):
        return False
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


#: PostgreSQL's SQLSTATE of a statement cancelled (by `statement_timeout`, here).
_QUERY_CANCELED = "57014"


def is_query_timeout(exc: BaseException) -> bool:
    """Whether `exc` is a statement the statement timeout stopped (see `db.limit_statements`)."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted"


class ErrorCodes(SchemaExtension):
    """Gives every error a code; masks unexpected exceptions behind an id that is logged.

    - A `UserError` raised by a service keeps its message and gets its `code`.
    - A `GraphQLError` with a code (raised on purpose) is left as it is.
    - An error before execution (parse, validation, limits, variables) keeps its message and gets
      the code that says which.
    - A database that cannot be reached is SERVICE_UNAVAILABLE (logged, no details to the client).
    - A statement stopped by the statement timeout is QUERY_TIMEOUT (one log line, no traceback).
    - Anything else is an internal error: the client sees "Internal error <id>", the log has the
      traceback under the same id.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        code_errors(self.execution_context.result)


def code_errors(result) -> None:
    """Give every error of `result` (an execution result, or None) its code, masking internal ones.

    Applied both by the `ErrorCodes` extension and after `CrmSchema.execute`, because errors raised
    inside other extensions (the parser cache's syntax errors, for one) never reach `on_operation`.
    Applying it twice changes nothing.
    """
    if result is None or not getattr(result, "errors", None):
        return
    result.errors = [coded(error) for error in result.errors]


def coded(error: GraphQLError) -> GraphQLError:
    """`error` with ``extensions.code`` set (see the module docstring); internal errors masked and logged."""
    original = error.original_error
    if isinstance(original, UserError):
        return _with(error, str(original), {**(error.extensions or {}), "code": original.code})
    if (error.extensions or {}).get("code"):
        return error
    if isinstance(original, GraphQLError) and (original.extensions or {}).get("code"):
        return _with(error, error.message, dict(original.extensions))
    if error.path is None and (original is None or isinstance(original, GraphQLError)
                               or error.message.startswith(_COERCION_PREFIXES)):
        return _with(error, error.message, {**(error.extensions or {}), "code": _request_code(error)})
    error_id = uuid.uuid4().hex[:12]
    if original is not None and is_query_timeout(original):
        log.warning("query timeout (error %s) at %s: a statement ran longer than the statement timeout",
                    error_id, error.path)
        return _with(error, "The query ran longer than this server allows and was stopped; ask for less "
                     f"(a shorter range, fewer fields) or retry later (error {error_id}).",
                     {"code": "QUERY_TIMEOUT", "errorId": error_id})
    if original is not None and is_database_unavailable(original):
        log.warning("database unavailable (error %s) at %s: %s", error_id, error.path,
                    str(original).strip().splitlines()[0] if str(original).strip() else original)
        return _with(error, f"The database is unavailable; retry shortly (error {error_id}).",
                     {"code": "SERVICE_UNAVAILABLE", "errorId": error_id})
    log.error("internal error %s at %s", error_id, error.path, exc_info=original or error)
    return _with(error, f"Internal error {error_id}; the server log has the details.",
                 {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id})


def _request_code(error: GraphQLError) -> str:
    """The code of an error raised before execution (no path): which check refused the request."""
    for pattern, code in _LIMIT_CODES:
        if pattern.search(error.message):
            return code
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable ") and any(
        words in error.message for words in ("invalid value", "was not provided", "must not be null")
    ):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _with(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions=extensions)
