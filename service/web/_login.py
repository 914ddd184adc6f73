"""The start page, the login form and logging out, and forms kept across an expired session.

A form posted after the session expired is not thrown away: :func:`login_again` answers with
the login form carrying what was typed (signed with the old session token, which the browser
still holds), and a successful login by the same user sends it on (:func:`_replay_page`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from service.accounts import (
    issue_access_token,
    login_candidate,
    revoke_access_token,
    verify_login,
)
from service.api.deps import AppSettings, Conn, PageUser, RequestConnections
from service.auth.throttle import LoginLimits, check_login_allowed, clear_failures, record_failure
from service.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from service.web._guard import home_of
from service.web._html import Html, el, void
from service.web._layout import html_response, page
from service.web._session import (
    check_csrf,
    check_login_csrf,
    clear_session,
    csrf_for,
    login_csrf,
    session_owner,
    session_token,
    set_login_csrf,
    set_session,
)

__all__ = ["login_again", "router"]

EXPIRED = (
    "Your session expired (after a time without activity, or at the longest a session may last)."
    " Please log in again."
)
KEPT = "Your session expired. Log in again and what you typed will be sent."
# Tunable default: a kept form holds at most 64 kB (the check-in's note is at most 2,000 chars).
_KEEP_MAX = 65_536
# Tunable default: the session cookie outlives the longest session by a day, so that a form
# posted just after the maximum can still be recognised as the user's own.
_COOKIE_GRACE_S = 86_400

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _sign(old_token: str, keep: str) -> str:
    return hmac.new(old_token.encode(), b"rehab-keep:" + keep.encode(), hashlib.sha256).hexdigest()


def _login_page(
    request: Request,
    *,
    message: str = "",
    target: str = "/",
    status: int = 200,
    keep: str = "",
    keep_sig: str = "",
) -> Response:
    token = login_csrf(request)
    form = el(
        "form",
        void("input", type="hidden", name="csrf", value=token),
        void("input", type="hidden", name="next", value=_safe_next(target)),
        void("input", type="hidden", name="keep", value=keep) if keep else None,
        void("input", type="hidden", name="keep_sig", value=keep_sig) if keep else None,
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
        el("p", "What you typed is kept.", class_="muted") if keep else None,
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
async def start(user: PageUser) -> Response:
    """The start page: the user's home view (without a session, the login form)."""
    return RedirectResponse(home_of(user), status_code=303)


async def login_again(request: Request) -> Response:
    """The answer to a form posted without a live session: log in, and the post is sent then.

    The fields are kept only when the post carries the CSRF token of the session cookie the
    browser still holds (so it came from this site's page); otherwise the login form alone.
    """
    form = await request.form()
    old = session_token(request)
    fields = [(k, v) for k, v in form.multi_items() if k != "csrf" and isinstance(v, str)]
    keep = orjson.dumps({"action": request.url.path, "fields": fields}).decode()
    own = old is not None and hmac.compare_digest(csrf_for(old), str(form.get("csrf") or ""))
    if old is None or not own or len(keep) > _KEEP_MAX:
        return _login_page(request, message=EXPIRED, target="/", status=401)
    return _login_page(
        request, message=KEPT, target="/", status=401, keep=keep, keep_sig=_sign(old, keep)
    )


def _replay_page(request: Request, kept: dict[str, object], token: str) -> Html:
    """A form that sends the kept post again under the new session (app.js submits it)."""
    pairs = kept.get("fields")
    fields = [
        void("input", type="hidden", name=str(k), value=str(v))
        for k, v in (pairs if isinstance(pairs, list) else [])
    ]
    form = el(
        "form",
        void("input", type="hidden", name="csrf", value=csrf_for(token)),
        fields,
        el("button", "Send what you typed", type="submit", class_="primary"),
        method="post",
        action=_safe_next(str(kept.get("action") or "/")),
        data_autosubmit=True,
        class_="stack",
    )
    body = el(
        "section",
        el("h1", "Logged in again"),
        el("p", "Sending what you typed before your session expired…", role="status"),
        form,
        class_="card narrow",
    )
    return page(request, title="Logged in again", body=body, user=None)


async def _kept_post(conn: Conn, request: Request, keep: str, sig: str, user_id: object) -> bool:
    """Whether ``keep`` is the same user's form from their expired session."""
    old = session_token(request)
    if not keep or old is None or not hmac.compare_digest(_sign(old, keep), sig):
        return False
    return await session_owner(conn, old) == user_id


@router.get("/login")
async def login_form(request: Request, next: str = "/", expired: str = "") -> Response:
    """The login form (``expired=1``: the session had expired)."""
    return _login_page(request, target=next, message=EXPIRED if expired else "")


@router.post("/login")
async def login(
    request: Request,
    connections: RequestConnections,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    keep: Annotated[str, Form(max_length=_KEEP_MAX)] = "",
    keep_sig: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the credentials as ``POST /v1/auth/token`` does and start a browser session."""
    try:
        check_login_csrf(request, csrf)
    except PermissionDeniedError as exc:
        return _login_page(
            request, message=str(exc), target=next, status=403, keep=keep, keep_sig=keep_sig
        )
    address = request.client.host if request.client else "unknown"
    limits = LoginLimits(
        window_s=settings.login_window_s,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
    )
    conn = await connections.get()
    try:
        await check_login_allowed(conn, email=username, address=address, limits=limits)
        candidate = await login_candidate(conn, email=username)
        # The attempt is counted and committed; argon2 runs without holding a pool connection.
        await connections.release()
        user_id = await verify_login(candidate, password=password)
    except RateLimitedError:
        return _login_page(
            request,
            message="Too many attempts. Please wait a few minutes and try again.",
            target=next,
            status=429,
            keep=keep,
            keep_sig=keep_sig,
        )
    except AuthenticationError:
        await record_failure(await connections.get(), email=username, address=address)
        return _login_page(
            request,
            message="That e-mail and password do not match.",
            target=next,
            status=401,
            keep=keep,
            keep_sig=keep_sig,
        )
    conn = await connections.get()
    await clear_failures(conn, email=username)
    # The session starts with its idle time; activity renews it up to session_max_s.
    ttl_s = min(settings.session_idle_s, settings.session_max_s)
    token, _ = await issue_access_token(conn, user_id=user_id, ttl_s=ttl_s)
    response: Response
    if await _kept_post(conn, request, keep, keep_sig, user_id):
        response = html_response(request, _replay_page(request, orjson.loads(keep), token))
    else:
        response = RedirectResponse(_safe_next(next), status_code=303)
    cookie_s = settings.session_max_s + _COOKIE_GRACE_S
    set_session(response, request, token=token, max_age_s=cookie_s)
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
