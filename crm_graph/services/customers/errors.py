"""Errors of customer changes that the GraphQL layer turns into typed mutation errors."""

from __future__ import annotations

from crm_graph.errors import UserError


class FieldError(UserError):
    """A value of one input field is not acceptable; `field` names it as the client spelled it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(UserError):
    """The change would break a rule of the store's data, e.g. two customers with one email."""

    code = "CONFLICT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
