"""The start page, the login form and logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from service.accounts import authenticate, issue_access_token, revoke_access_token
from service.api.deps import AppSettings, Conn
from service.auth.throttle import LoginLimits, check_login_allowed, clear_failures, record_failure
from service.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from service.web._guard import home_of
from service.web._html import el, void
from service.web._layout import html_response, page
from service.web._session import (
    check_csrf,
    check_login_csrf,
    clear_session,
    login_csrf,
    principal_or_none,
    session_token,
    set_login_csrf,
    set_session,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, *, message: str = "", target: str = "/", status: int = 200
) -> Response:
    token = login_csrf(request)
    form = el(
        "form",
        void("input", type="hidden", name="csrf", value=token),
        void("input", type="hidden", name="next", value=_safe_next(target)),
        el("label", "E-mail", for_="username"),
        void(
            "input",
            id="username",
            name="username",
            type="email",
            autocomplete="username",
            required=True,
            autofocus=True,
        ),
        el("label", "Password", for_="password"),
        void(
            "input",
            id="password",
            name="password",
            type="password",
            autocomplete="current-password",
            required=True,
        ),
        el("button", "Log in", type="submit", class_="primary"),
        method="post",
        action="/login",
        class_="stack",
    )
    body = el(
        "section",
        el("h1", "Log in"),
        el("p", message, class_="banner error", role="alert") if message else None,
        form,
        el(
            "p", "Care team members see their patients; patients see their own day.", class_="muted"
        ),
        class_="card narrow",
    )
    response = html_response(
        request, page(request, title="Log in", body=body, user=None), status=status
    )
    set_login_csrf(request, response, token)
    return response


@router.get("/")
async def start(request: Request, conn: Conn) -> Response:
    """The start page: the user's home view, or the login form."""
    user = await principal_or_none(conn, request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(user), status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    """The login form."""
    return _login_page(request, target=next)


@router.post("/login")
async def login(
    request: Request,
    conn: Conn,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the credentials as ``POST /v1/auth/token`` does and start a browser session."""
    try:
        check_login_csrf(request, csrf)
    except PermissionDeniedError as exc:
        return _login_page(request, message=str(exc), target=next, status=403)
    address = request.client.host if request.client else "unknown"
    limits = LoginLimits(
        window_s=settings.login_window_s,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
    )
    try:
        await check_login_allowed(conn, email=username, address=address, limits=limits)
        user_id = await authenticate(conn, email=username, password=password)
    except RateLimitedError:
        return _login_page(
            request,
            message="Too many attempts. Please wait a few minutes and try again.",
            target=next,
            status=429,
        )
    except AuthenticationError:
        await record_failure(conn, email=username, address=address)
        return _login_page(
            request, message="That e-mail and password do not match.", target=next, status=401
        )
    await clear_failures(conn, email=username)
    token, _ = await issue_access_token(conn, user_id=user_id, ttl_s=settings.access_token_ttl_s)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(response, request, token=token, max_age_s=settings.access_token_ttl_s)
    return response


@router.post("/logout")
async def logout(
    request: Request, conn: Conn, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the browser session: revoke its token and drop the cookie."""
    token = session_token(request)
    if token is not None:
        check_csrf(request, csrf)
        await revoke_access_token(conn, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response
