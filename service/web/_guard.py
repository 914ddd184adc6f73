"""What every page handler shares: the home page of a role, and errors and rejected forms as pages.

Who may see a page is not checked here: the page routes are rows of the access table
(``service.api.access``) and their handlers receive the checked user and patient. A form post's
CSRF token is checked there too, so that a form handler only reads, validates and stores; a form
that does not validate comes back as its page with the reasons (:func:`form_errors`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from fastapi import Request
from psycopg import AsyncConnection
from pydantic import ValidationError
from starlette.responses import Response

from service.accounts import Principal
from service.errors import ServiceError
from service.web._layout import error_page

__all__ = ["Rerender", "form_errors", "home_of", "validation_message", "web_errors"]

P = ParamSpec("P")
Handler = Callable[P, Awaitable[Response]]

Rerender = Callable[[Request, AsyncConnection[Any], str], Awaitable[Response]]
"""The page a rejected form comes back as: ``(request, conn, reasons)`` to a 422 response."""


def home_of(user: Principal) -> str:
    """Where a user lands after login."""
    return "/me" if user.role == "patient" else "/team"


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one plain sentence per field."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "form"
        parts.append(f"{field.replace('_', ' ')}: {error['msg']}")
    return "; ".join(parts)


def _request(kwargs: dict[str, Any]) -> Request:
    request = kwargs.get("request")
    assert isinstance(request, Request), "page routes take request as a keyword"
    return request


def web_errors(handler: Handler[P]) -> Handler[P]:
    """Render service and validation errors as HTML pages instead of problem+json."""

    @functools.wraps(handler)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = _request(kwargs)
        try:
            return await handler(*args, **kwargs)
        except ServiceError as exc:
            return error_page(request, status=exc.status, message=str(exc), user=None)
        except ValidationError as exc:
            return error_page(request, status=422, message=validation_message(exc), user=None)

    return wrapped


def form_errors(rerender: Rerender) -> Callable[[Handler[P]], Handler[P]]:
    """A form post's handler: a form the model rejects answers ``rerender`` with the reasons.

    The handler validates with ``Model.model_validate(values)`` and lets the ``ValidationError``
    rise; it takes ``request`` and ``conn`` as keywords. Other errors are pages (:func:`web_errors`).
    """

    def decorate(handler: Handler[P]) -> Handler[P]:
        @functools.wraps(handler)
        async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
            try:
                return await handler(*args, **kwargs)
            except ValidationError as exc:
                conn = kwargs.get("conn")
                assert isinstance(conn, AsyncConnection), "form routes take conn as a keyword"
                return await rerender(_request(kwargs), conn, validation_message(exc))

        return web_errors(wrapped)

    return decorate
