"""Browser sessions: the bearer token in an HttpOnly cookie, and CSRF tokens for form posts.

The login form exchanges e-mail and password for the same opaque bearer token the API issues
(``POST /v1/auth/token``) and keeps it in an ``HttpOnly``, ``SameSite=Strict`` cookie; page
routes resolve it exactly as the API resolves an ``Authorization`` header. Every state-changing
form carries a CSRF token bound to the session (an HMAC of the session token), on top of the
SameSite protection; the login form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request, Response
from psycopg import AsyncConnection

from service.accounts import Principal, resolve_access_token
from service.errors import AuthenticationError, PermissionDeniedError

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "check_csrf",
    "check_login_csrf",
    "clear_session",
    "csrf_token",
    "login_csrf",
    "principal_or_none",
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


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def session_token(request: Request) -> str | None:
    """The bearer token of the browser session, if the request carries one."""
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    return token or None


async def principal_or_none(conn: AsyncConnection[Any], request: Request) -> Principal | None:
    """The logged-in user behind the session cookie; ``None`` without a live session."""
    token = session_token(request)
    if token is None:
        return None
    try:
        return await resolve_access_token(conn, token)
    except AuthenticationError:
        return None


def set_session(response: Response, request: Request, *, token: str, max_age_s: int) -> None:
    """Keep ``token`` in the session cookie for ``max_age_s`` seconds."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def csrf_token(request: Request) -> str:
    """The CSRF token of the current session (empty without a session)."""
    token = session_token(request)
    if token is None:
        return ""
    return hmac.new(token.encode(), b"rehab-web-csrf", hashlib.sha256).hexdigest()


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
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=_LOGIN_CSRF_MAX_AGE_S,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def check_login_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a login post whose token does not match its cookie."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDeniedError("the login form has expired; reload the page")
