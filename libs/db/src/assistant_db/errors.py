"""Telling apart the database errors a caller must treat differently.

- *unavailable*: the server cannot be reached or is going away (a restart, an outage, a
  connection cut). Nothing about the request was wrong: wait and try again, or answer 503.
- *caused by input*: the server refused a value (a NUL character, a number out of range, too
  many parameters). Trying again fails the same way: the caller's request is at fault, a 4xx.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc

_UNAVAILABLE = (
    OSError,  # refused, reset, or the socket file gone while the server restarts
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,  # closed under the caller
    # A pooled connection whose statement the server cut off mid-way (seen while PostgreSQL
    # restarts under load: "cannot switch to state 12; another operation is in progress").
    asyncpg.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)
_INPUT = (
    asyncpg.DataError,  # invalid text, out of range, bad datetime
    asyncpg.exceptions.ProgramLimitExceededError,  # a value too large for an index, say
    asyncpg.exceptions.TooManyArgumentsError,
)


def _too_many_arguments(error: BaseException) -> bool:
    """asyncpg refuses over 32,767 query arguments itself, as a plain interface error."""
    return isinstance(error, asyncpg.InterfaceError) and "arguments cannot exceed" in str(error)


def _causes(error: BaseException) -> list[BaseException]:
    """The error, what SQLAlchemy wrapped, and what each was raised from."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        original = getattr(current, "orig", None)
        if isinstance(current, exc.DBAPIError) and isinstance(original, BaseException):
            # SQLAlchemy's asyncpg adapter keeps the driver's exception as its cause
            current = original.__cause__ or original
            found.append(original)
            continue
        current = current.__cause__ or current.__context__
    return found


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return any(isinstance(cause, _UNAVAILABLE) for cause in _causes(error))


def caused_by_input(error: BaseException) -> bool:
    return any(isinstance(c, _INPUT) or _too_many_arguments(c) for c in _causes(error))
