"""One error format everywhere: ``application/problem+json`` (RFC 9457).

Domain errors (``service.errors.ServiceError``) carry their status; request validation errors
become 422 with an ``errors`` list; database errors are translated here, once
(``service.errors.translate_database_error``: 503 with ``Retry-After`` while the database is
away, 4xx for rejected values), and logged with their SQLSTATE and stack only, never the server's
message (its DETAIL can quote a row); anything unexpected is a 500 whose body says nothing about
internals (the log has the traceback, never health data).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.errors import AuthenticationError, ServiceError, translate_database_error

__all__ = [
    "PROBLEM_RESPONSES",
    "UNAVAILABLE_RESPONSE",
    "UNSUPPORTED_MEDIA_RESPONSE",
    "DatabaseTextFilter",
    "install_problem_handlers",
    "problem_response",
    "scrubbed_traceback",
]

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Invalid input"},
        "status": {"type": "integer", "example": 422},
        "detail": {"type": "string", "example": "samples[3].bpm: Input should be ≤ 250"},
        "code": {"type": "string", "example": "validation_failed"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": title, "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}}}
    for status, title in (
        (401, "Missing, expired or revoked credentials"),
        (403, "Authenticated, but this role may not do this"),
        (404, "Not found, or not visible to the caller"),
        (422, "Invalid input; nothing was stored"),
    )
}
# Added to every operation of the OpenAPI document by ``service.api.app`` (see there).
UNAVAILABLE_RESPONSE: dict[str, Any] = {
    "description": "The database is unavailable or busy; retry after the Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
}
UNSUPPORTED_MEDIA_RESPONSE: dict[str, Any] = {
    "description": "The body is not in the content type the route reads",
    "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
}


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    if "retry_after_s" in exc.fields:
        headers = {"Retry-After": str(exc.fields["retry_after_s"])}
    extra = {
        k: v
        for k, v in exc.fields.items()
        if k in ("errors", "error_count", "limit", "retry_after_s", "field")
    }
    return problem_response(
        exc.status, exc.title, exc.detail, code=exc.code, headers=headers, **extra
    )


def _loc(loc: tuple[Any, ...]) -> list[Any]:
    return [p for p in loc if p != "body"] or list(loc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": _loc(tuple(e["loc"])), "msg": e["msg"]} for e in exc.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(map(str, first["loc"]))
    return problem_response(
        422, "Invalid input", f"{where}: {first['msg']}", code="validation_failed", errors=errors
    )


# FastAPI answers 400 with this detail to a body it cannot decode (not UTF-8, not a form).
_UNPARSABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        # Invalid input like any other: 422 naming the body, as every route documents.
        msg = "the body could not be decoded (expected UTF-8 JSON, or a form where documented)"
        return problem_response(
            422,
            "Invalid input",
            f"body: {msg}",
            code="validation_failed",
            errors=[{"loc": ["body"], "msg": msg}],
        )
    return problem_response(
        exc.status_code,
        str(exc.detail),
        str(exc.detail),
        code=f"http_{exc.status_code}",
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, psycopg.Error)
    error = translate_database_error(exc)
    if error.status >= 500:
        # SQLSTATE and the stack, never str(exc): PostgreSQL's DETAIL may quote row contents.
        log.error(
            "database error %s (SQLSTATE %s) on %s %s: answered %d\n%s",
            type(exc).__name__,
            exc.sqlstate,
            request.method,
            request.url.path,
            error.status,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
    return await _service_error(request, error)


def scrubbed_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes, with every database error's message left out."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg.Error):
            message = f"{type(current).__name__} (SQLSTATE {current.sqlstate})"
        else:
            message = "".join(traceback.format_exception_only(current)).strip()
        parts.append("".join(traceback.format_tb(current.__traceback__)) + message)
        current = current.__cause__ or current.__context__
    return "\n-- caused by --\n".join(reversed(parts))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled error on %s %s\n%s", request.method, request.url.path, scrubbed_traceback(exc)
    )
    return problem_response(
        500,
        "Internal error",
        "the service failed to handle the request; it has been logged",
        code="internal_error",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(psycopg.Error, _database_error)
    app.add_exception_handler(Exception, _unexpected)


def _chain_has_database_error(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, psycopg.Error):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class DatabaseTextFilter(logging.Filter):
    """A handler filter: a logged exception that is or wraps a database error loses its message.

    Installed on the process's log handlers by the CLI, so that no log line anywhere (worker,
    notifier) carries PostgreSQL's DETAIL, which can quote a row.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _chain_has_database_error(exc):
            record.exc_text = scrubbed_traceback(exc)
            record.exc_info = None
        if isinstance(record.msg, str) and "Failing row contains" in record.getMessage():
            record.msg, record.args = "a database error (message withheld: it quotes a row)", ()
        return True
