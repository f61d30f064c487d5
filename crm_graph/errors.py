"""Errors the user can act on.

A `UserError` carries one sentence that says what is wrong and what to do; the CLI prints it
without a traceback and the GraphQL layer turns it into an error with a stable code.
"""


class UserError(Exception):
    """A problem with the caller's input or environment, explained in plain words."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class NotFound(UserError):
    """The named object does not exist in this store."""

    code = "NOT_FOUND"


class ConfigurationError(UserError):
    """The service is configured in a way that cannot work (bad URL, unreachable database)."""

    code = "CONFIGURATION_ERROR"


class TransientError(Exception):
    """A failure that may go away by itself (a platform's 429 or 5xx, a dropped connection).

    Background jobs that raise it (or an exception caused by it) are retried with backoff; any other
    error fails the job at once, since running it again on the same data would fail again.
    """

    transient = True
