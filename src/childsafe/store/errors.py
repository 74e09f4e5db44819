"""Which database errors mean "try again later" rather than a bug, for the faces to answer without importing
the database library: a locked, read-only, full or unreachable database (SQLite and PostgreSQL alike). Other
database errors (a constraint, a bad query) are bugs."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exc as sa_exc

DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)

UnavailableReason = Literal["locked", "read-only", "unavailable"]


def unavailable_reason(exc: BaseException) -> UnavailableReason:
    """Why the database refused, read from the driver's message (which itself is never passed on: it can quote
    the query's parameters)."""
    orig = str(getattr(exc, "orig", "") or "").lower()
    if "locked" in orig or "busy" in orig:
        return "locked"
    if "readonly" in orig or "read-only" in orig:
        return "read-only"
    return "unavailable"
