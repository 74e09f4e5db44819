"""JSON errors in OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``), never a traceback."""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

# What a locked, read-only or unreachable database raises: a 503 (the routers catch it from here); other
# database errors (a constraint, a bad query) are bugs and stay a 500.
from childsafe.store.errors import DATABASE_UNAVAILABLE_ERRORS as DATABASE_UNAVAILABLE_ERRORS
from childsafe.store.errors import unavailable_reason


class ApiError(HTTPException):
    """An error with a clear message for the client. Subclasses HTTPException so FastAPI passes it through."""

    def __init__(
        self,
        status_code: int,
        message: str,
        type_: str = "invalid_request_error",
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.message = message
        self.type = type_
        self.param = param
        self.code = code


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(
    status: int, message: str, type_: str, *, param: str | None = None, code: str | None = None, headers: Any = None
) -> JSONResponse:
    return JSONResponse(error_body(message, type_, param, code), status_code=status, headers=headers)


LONE_SURROGATE = "contains a lone UTF-16 surrogate escape (such as \\ud800): it is not valid Unicode text"

_HTTP_TYPES = {404: "not_found", 405: "method_not_allowed", 401: "authentication_error", 413: "request_too_large"}

DATABASE_RETRY_AFTER_S = 5
_UNAVAILABLE_WHY = {
    "locked": "is locked by another writer",
    "read-only": "is read-only",
    "unavailable": "is unavailable",
}


def database_unavailable(exc: Exception) -> ApiError:
    """A 503 naming the database. The driver's text is not passed on: it can quote the query's parameters."""
    why = _UNAVAILABLE_WHY[unavailable_reason(exc)]
    return ApiError(
        503,
        f"the gateway's database {why}; the request could not be completed, retry in a few seconds",
        "service_unavailable",
        code="database_unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler form of :func:`database_unavailable`, for routers that do not wrap their routes."""
    return await handle_http_error(request, database_unavailable(exc))


async def handle_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_response(
            exc.status_code, exc.message, exc.type, param=exc.param, code=exc.code, headers=exc.headers
        )
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = "no such endpoint"
    return error_response(exc.status_code, message, _HTTP_TYPES.get(exc.status_code, "invalid_request_error"))


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")
UNNAMED_KEY = "<key>"
"""Stands in an error for a key of the client's JSON that is not a field name (it could hold a child's words)."""


def field_name(key: object) -> str:
    """A key of the request as an error may quote it: as sent when it has the shape of a field name (letters,
    digits, ``_`` and ``-``, up to 64), otherwise :data:`UNNAMED_KEY`. Errors never echo the request's text, and
    a key is text too (an extra field's name can be anything)."""
    text = str(key)
    return text if _FIELD_NAME.fullmatch(text) else UNNAMED_KEY


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + field_name(part)
    return out


_VARIANTS = ("str", "int", "list", "function-after")
"""Names pydantic adds to an error's path for the alternative of a union (``str | int``): not fields."""


def describe_validation_errors(errors: list[Any]) -> tuple[str, str | None]:
    """One clear sentence naming what is wrong (field path and problem); never echoes the input value."""
    parts: list[str] = []
    first_param: str | None = None
    for err in errors[:5]:
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        if loc and loc[0] == "body":
            loc = loc[1:]
        # tagged unions and str|list alternatives add the variant name to the path; it means nothing to a client
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _VARIANTS)))
        field = _loc(loc)
        if kind == "json_invalid":
            ctx = err.get("ctx") or {}
            parts.append(f"invalid JSON body: {ctx.get('error', 'cannot parse')}")
            continue
        if kind == "missing" and not field:
            parts.append("request body is missing; send a JSON object")
            continue
        if kind in ("model_attributes_type", "dict_type", "model_type") and not field:
            parts.append("request body must be a JSON object")
            continue
        first_param = first_param or field or None
        if kind == "missing":
            parts.append(f"missing required field '{field}'")
        elif kind == "extra_forbidden":
            parts.append(f"unknown field '{field}'")
        elif kind == "string_unicode":  # JSON allows "\ud800" alone, but it is not text: say so plainly
            parts.append(f"{f'field {field!r}' if field else 'a key of the request body'} {LONE_SURROGATE}")
        else:
            parts.append(f"field '{field}': {err.get('msg', 'invalid value')}")
    seen: list[str] = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    return "; ".join(seen) or "invalid request", first_param


async def handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, param = describe_validation_errors(list(exc.errors()))
    return error_response(400, message, "invalid_request_error", param=param)
