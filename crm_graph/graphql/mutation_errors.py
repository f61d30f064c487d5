"""Typed mutation errors: every mutation returns a union of its changed object and these types.

The pattern (one for the whole API): `createCustomer` returns
`CustomerResult = Customer | ValidationError | NotFoundError | ConflictError`; a client asks
`... on Customer { id } ... on MutationError { code message field }`. When a mutation returns an
error, nothing was changed. Errors that are not about the input (no API key, a read-only key, a
query over the limits) stay top-level GraphQL errors with `extensions.code`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from crm_graph.errors import NotFound, UserError
from crm_graph.graphql.context import Info
from crm_graph.models.enums import Role
from crm_graph.services.customers.errors import Conflict, FieldError


@strawberry.interface(name="MutationError", description="Why a mutation changed nothing.")
class MutationErrorType:
    message: str = strawberry.field(description="One sentence saying what is wrong and what to do.")
    code: str = strawberry.field(description="Stable code: BAD_USER_INPUT, NOT_FOUND or CONFLICT.")
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")


@strawberry.type(name="ValidationError", description="An argument or input field has a value that is not accepted.")
class ValidationErrorType(MutationErrorType):
    pass


@strawberry.type(name="NotFoundError", description="A named object (customer, segment) is not in this store.")
class NotFoundErrorType(MutationErrorType):
    pass


@strawberry.type(name="ConflictError", description="The change would break a rule, e.g. two customers with one email.")
class ConflictErrorType(MutationErrorType):
    pass


def error_result(exc: UserError) -> MutationErrorType:
    """The typed error for a `UserError` raised by a service."""
    field = getattr(exc, "field", None)
    if isinstance(exc, NotFound):
        return NotFoundErrorType(message=str(exc), code=exc.code, field=field)
    if isinstance(exc, Conflict):
        return ConflictErrorType(message=str(exc), code=exc.code, field=field)
    return ValidationErrorType(message=str(exc), code=exc.code, field=field if isinstance(exc, FieldError) else field)


async def run_mutation(info: Info, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the service `fn` with a write key; a `UserError` becomes its typed error (and rolls back)."""
    try:
        return await info.context.run(fn, *args, role=Role.WRITE, **kwargs)
    except UserError as exc:
        return error_result(exc)


def parse_id(value: Any, argument: str = "id") -> int:
    """An integer id from a GraphQL `ID`; a malformed one is `NotFound` (no such object)."""
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise NotFound(f"`{argument}`: there is no object {text[:40]!r}.")
    return int(text)
