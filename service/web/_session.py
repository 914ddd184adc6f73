"""Browser sessions: the bearer token in an HttpOnly cookie, and CSRF tokens for form posts.

The login form exchanges e-mail and password for the same opaque bearer token the API issues
(``POST /v1/auth/token``) and keeps it in an ``HttpOnly``, ``SameSite=Strict`` cookie; page
routes resolve it exactly as the API resolves an ``Authorization`` header. Every state-changing
form carries a CSRF token bound to the session (an HMAC of the session token), on top of the
SameSite protection; the login form, which has no session yet, uses a double-submit cookie.

A browser session ends after ``session_idle_s`` without activity and at the latest
``session_max_s`` after login (settings). Every request renews the idle time except the live
pages' background polls (header ``X-Rehab-Poll: idle``), so that an open page nobody touches
still expires. The cookie outlives the token, so that a form posted after expiry can be
recognised as the user's own and sent again once they have logged in
(:mod:`service.web._login`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from psycopg import AsyncConnection

from service.accounts import Principal, resolve_access_token
from service.auth import hash_token
from service.errors import AuthenticationError, PermissionDeniedError

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "POLL_HEADER",
    "SESSION_COOKIE",
    "SESSION_LEFT_HEADER",
    "check_csrf",
    "check_login_csrf",
    "clear_session",
    "csrf_for",
    "csrf_token",
    "is_poll",
    "login_csrf",
    "principal_or_none",
    "session_owner",
    "session_token",
    "set_login_csrf",
    "set_session",
]

SESSION_COOKIE = "rehab_session"
LOGIN_CSRF_COOKIE = "rehab_login_csrf"
# 32 bytes of randomness for the login form's double-submit token (OWASP CSRF cheat sheet).
_LOGIN_CSRF_BYTES = 32
# Tunable default: an unused login form stays valid for an hour.
_LOGIN_CSRF_MAX_AGE_S = 3600
# The live pages' background requests say whether the user did anything since the last one.
POLL_HEADER = "x-rehab-poll"
# Seconds left of the session, on every page response of a live session (read by app.js).
SESSION_LEFT_HEADER = "X-Rehab-Session-Left-S"
# Tunable default: the idle time is written back at most every 30 s of activity, not on every
# request (one small UPDATE per active user and half minute).
_RENEW_STEP_S = 30
# The session's expiry renewed by activity, capped by the absolute maximum since login; returns
# the (possibly renewed) expiry, or no row for a dead token.
_RENEW = (
    "WITH t AS (SELECT token_hash, expires_at,"
    " least(now() + make_interval(secs => %(idle)s), created_at + make_interval(secs => %(max)s))"
    " AS renewed FROM access_tokens"
    " WHERE token_hash = %(h)s AND revoked_at IS NULL AND expires_at > now()),"
    " u AS (UPDATE access_tokens a SET expires_at = t.renewed FROM t"
    " WHERE %(active)s AND a.token_hash = t.token_hash"
    " AND t.renewed > t.expires_at + make_interval(secs => %(step)s) RETURNING a.expires_at)"
    " SELECT coalesce((SELECT expires_at FROM u), t.expires_at) - now() FROM t"
)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def session_token(request: Request) -> str | None:
    """The bearer token of the browser session, if the request carries one."""
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    return token or None


def is_poll(request: Request) -> bool:
    """A live page's background request (not the user navigating or posting)."""
    return POLL_HEADER in request.headers


async def principal_or_none(conn: AsyncConnection[Any], request: Request) -> Principal | None:
    """The logged-in user behind the session cookie; ``None`` without a live session.

    Renews the session's idle time unless the request is a poll without user activity, and
    keeps the seconds left in ``request.state.session_left_s`` for the response header.
    """
    token = session_token(request)
    if token is None:
        return None
    settings = request.app.state.settings
    cur = await conn.execute(
        _RENEW,
        {
            "h": hash_token(token),
            "idle": settings.session_idle_s,
            "max": settings.session_max_s,
            "step": _RENEW_STEP_S,
            "active": request.headers.get(POLL_HEADER, "active") != "idle",
        },
    )
    row = await cur.fetchone()
    if row is None:
        return None
    try:
        user = await resolve_access_token(conn, token)
    except AuthenticationError:
        return None
    request.state.session_left_s = max(int(row[0].total_seconds()), 0)
    return user


async def session_owner(conn: AsyncConnection[Any], token: str) -> UUID | None:
    """The user a session token was issued to, live or not (``None``: no such token)."""
    cur = await conn.execute(
        "SELECT user_id FROM access_tokens WHERE token_hash = %s", (hash_token(token),)
    )
    row = await cur.fetchone()
    return None if row is None else UUID(str(row[0]))


def _set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age_s: int, path: str
) -> None:
    """An ``HttpOnly``, ``SameSite=Strict`` cookie, ``Secure`` over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age_s,
        path=path,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def set_session(response: Response, request: Request, *, token: str, max_age_s: int) -> None:
    """Keep ``token`` in the session cookie for ``max_age_s`` seconds."""
    _set_cookie(response, request, SESSION_COOKIE, token, max_age_s=max_age_s, path="/")


def clear_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def csrf_for(token: str) -> str:
    """The CSRF token of the session ``token``."""
    return hmac.new(token.encode(), b"rehab-web-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token of the current session (empty without a session)."""
    token = session_token(request)
    if token is None:
        return ""
    return csrf_for(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form post whose CSRF token does not belong to the session."""
    expected = csrf_token(request)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDeniedError("the form has expired or did not come from this site")


def login_csrf(request: Request) -> str:
    """The login form's token (double submit): the cookie's, or a fresh one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(_LOGIN_CSRF_BYTES)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    """Put the login form's token ``value`` in its cookie (renewing its lifetime)."""
    _set_cookie(
        response, request, LOGIN_CSRF_COOKIE, value, max_age_s=_LOGIN_CSRF_MAX_AGE_S, path="/login"
    )


def check_login_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a login post whose token does not match its cookie."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDeniedError("the login form has expired; reload the page")
