"""Typed mutation errors: every mutation returns a union of its changed object and these types.

The pattern (one for the whole API): the mutation `customerCreate` returns
`CustomerCreateResult = Customer | ValidationError | NotFoundError | ConflictError`; a client asks
`... on Customer { id } ... on UserError { code message field }`. When a mutation returns an
error, nothing was changed. Errors that are not about the input (no API key, a read-only key, a
query over the limits, an unreadable request) stay top-level GraphQL errors with `extensions.code`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import strawberry

from crm_graph.errors import NotFound, UserError
from crm_graph.graphql.context import Info
from crm_graph.models.enums import Role
from crm_graph.services.customers.errors import Conflict


@strawberry.enum(name="UserErrorCode", description="Why a mutation changed nothing, as a stable code to branch on.")
class UserErrorCode(Enum):
    BAD_USER_INPUT = strawberry.enum_value("BAD_USER_INPUT", description="An argument or input field is not accepted.")
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="A named object is not in this store.")
    CONFLICT = strawberry.enum_value("CONFLICT", description="The change would break a rule of the store's data.")
    CONFIGURATION_ERROR = strawberry.enum_value(
        "CONFIGURATION_ERROR", description="The server is configured in a way that cannot do this (ask its operator).")


@strawberry.interface(name="UserError", description="Why a mutation changed nothing: a mistake the caller can fix.")
class UserErrorType:
    message: str = strawberry.field(description="One sentence saying what is wrong and what to do.")
    code: UserErrorCode = strawberry.field(description="What kind of mistake, to branch on.")
    field: list[str] | None = strawberry.field(
        description="Path to the argument or input field at fault, e.g. `[\"input\", \"email\"]`; null when "
        "the mistake is not in one field.")


@strawberry.type(name="ValidationError", description="An argument or input field has a value that is not accepted.")
class ValidationErrorType(UserErrorType):
    pass


@strawberry.type(name="NotFoundError", description="A named object (customer, segment, job…) is not in this store.")
class NotFoundErrorType(UserErrorType):
    pass


@strawberry.type(name="ConflictError", description="The change would break a rule, e.g. two customers with one email.")
class ConflictErrorType(UserErrorType):
    pass


def error_code(exc: UserError) -> UserErrorCode:
    """The enum value of a service error's code (an unknown code is a plain BAD_USER_INPUT)."""
    try:
        return UserErrorCode[exc.code]
    except KeyError:
        return UserErrorCode.BAD_USER_INPUT


def field_path(field: str | None) -> list[str] | None:
    """`"input.email"` as `["input", "email"]`; None stays None."""
    return field.split(".") if field else None


def error_result(exc: UserError) -> UserErrorType:
    """The typed error for a `UserError` raised by a service (or by argument checks)."""
    field = field_path(getattr(exc, "field", None))
    code = error_code(exc)
    if isinstance(exc, NotFound) or code is UserErrorCode.NOT_FOUND:
        return NotFoundErrorType(message=str(exc), code=UserErrorCode.NOT_FOUND, field=field)
    if isinstance(exc, Conflict) or code is UserErrorCode.CONFLICT:
        return ConflictErrorType(message=str(exc), code=UserErrorCode.CONFLICT, field=field)
    return ValidationErrorType(message=str(exc), code=code, field=field)


def is_user_error(result: Any) -> bool:
    """Whether a mutation's result is one of the typed errors (then it is returned unchanged)."""
    return isinstance(result, UserErrorType)


async def run_mutation(info: Info, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the service `fn` with a write key; a `UserError` becomes its typed error (and rolls back)."""
    try:
        return await info.context.run(fn, *args, role=Role.WRITE, **kwargs)
    except UserError as exc:
        return error_result(exc)


class FieldNotFound(NotFound):
    """An id argument that names nothing of this store; `field` is the argument."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

