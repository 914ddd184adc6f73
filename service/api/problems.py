"""One error format everywhere: ``application/problem+json`` (RFC 9457).

Domain errors (``service.errors.ServiceError``) carry their status; request validation errors
become 422 with an ``errors`` list; anything unexpected is a 500 whose body says nothing about
internals (the log has the traceback, never health data).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.errors import AuthenticationError, ServiceError

__all__ = ["PROBLEM_RESPONSES", "install_problem_handlers", "problem_response"]

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
        if k in ("errors", "error_count", "limit", "retry_after_s")
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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code,
        str(exc.detail),
        str(exc.detail),
        code=f"http_{exc.status_code}",
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
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
    app.add_exception_handler(Exception, _unexpected)
