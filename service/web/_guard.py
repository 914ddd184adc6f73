"""What every page route does first: find the user, check access, and turn errors into pages."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec
from urllib.parse import quote
from uuid import UUID

from fastapi import Request
from psycopg import AsyncConnection
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from service.accounts import Principal
from service.errors import NotFoundError, ServiceError
from service.patients import PatientRecord
from service.patients.access import check_patient_access
from service.web._layout import error_page
from service.web._session import is_poll, session_token

__all__ = ["care_team_patient", "home_of", "to_login", "validation_message", "web_errors"]

P = ParamSpec("P")


def home_of(user: Principal) -> str:
    """Where a user lands after login."""
    return "/me" if user.role == "patient" else "/team"


def to_login(request: Request) -> Response:
    """Send an anonymous visitor to the login form, coming back here afterwards.

    A live page's poll gets a bare 401 instead, so that the page (and anything typed into it)
    stays; a browser that still holds a dead session cookie is told that the session expired.
    """
    if is_poll(request):
        return Response(status_code=401, headers={"Cache-Control": "no-store"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    expired = "&expired=1" if session_token(request) is not None else ""
    return RedirectResponse(f"/login?next={quote(target, safe='/')}{expired}", status_code=303)


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one plain sentence per field."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "form"
        parts.append(f"{field.replace('_', ' ')}: {error['msg']}")
    return "; ".join(parts)


def web_errors(
    handler: Callable[P, Awaitable[Response]],
) -> Callable[P, Awaitable[Response]]:
    """Render service and validation errors as HTML pages instead of problem+json."""

    @functools.wraps(handler)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs.get("request")
        assert isinstance(request, Request), "page routes take request as a keyword"
        try:
            return await handler(*args, **kwargs)
        except ServiceError as exc:
            return error_page(request, status=exc.status, message=str(exc), user=None)
        except ValidationError as exc:
            return error_page(request, status=422, message=validation_message(exc), user=None)

    return wrapped


async def care_team_patient(
    conn: AsyncConnection[Any], user: Principal, raw_id: str, *, action: str
) -> PatientRecord:
    """The patient for a care-team page; 404 (and an audit entry) for anyone else's patient.

    The same rule as the API's ``care_team`` policy: the patient's team's clinicians and admins.
    """
    try:
        patient_id = UUID(raw_id)
    except ValueError:
        raise NotFoundError(f"no patient {raw_id}") from None
    access = await check_patient_access(conn, user, patient_id, action=action, care_team_only=True)
    if access.patient is None:
        raise NotFoundError(f"no patient {raw_id}")
    return access.patient
