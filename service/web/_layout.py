"""The page shell shared by every view, HTML responses and error pages."""

from __future__ import annotations

import hashlib

from fastapi import Request
from starlette.responses import Response

from service.accounts import Principal
from service.web._html import Child, Html, el, join, void
from service.web._session import SESSION_LEFT_HEADER, csrf_token

__all__ = ["POLL_S", "error_page", "html_response", "page"]

# Tunable default: pages marked live re-check for new data or alerts every 5 s.
POLL_S = 5

# Same origin only: no inline script, no third-party resources (issue 6: works offline).
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _nav(request: Request, user: Principal | None) -> Html:
    if user is None:
        return Html("")
    home = "/me" if user.role == "patient" else "/team"
    label = "My day" if user.role == "patient" else "Patients"
    return el(
        "nav",
        el("a", label, href=home, class_="nav-home"),
        el("span", user.email, class_="who"),
        el(
            "form",
            void("input", type="hidden", name="csrf", value=csrf_token(request)),
            el("button", "Log out", type="submit", class_="link"),
            method="post",
            action="/logout",
            class_="logout",
        ),
        aria_label="Main",
    )


def _session_banner() -> Html:
    """Filled in by app.js: the session is about to end, or has ended (nothing typed is lost)."""
    return el(
        "div",
        el("p", "", class_="session-text"),
        el("button", "Stay logged in", type="button", class_="primary", data_session_renew=True),
        el("a", "Log in again", href="/login?expired=1", target="_blank", hidden=True),
        id="session-status",
        class_="banner warn session",
        role="alert",
        hidden=True,
    )


def page(
    request: Request,
    *,
    title: str,
    body: Child,
    user: Principal | None,
    live: bool = False,
    body_class: str = "",
) -> Html:
    """A complete HTML document; ``live`` pages poll for changes (see ``static/app.js``)."""
    return join(
        [
            Html("<!doctype html>"),
            el(
                "html",
                el(
                    "head",
                    void("meta", charset="utf-8"),
                    void("meta", name="viewport", content="width=device-width, initial-scale=1"),
                    el("title", f"{title} · Rehab Monitor"),
                    void("link", rel="stylesheet", href="/static/app.css"),
                    el("script", src="/static/app.js", defer=True),
                ),
                el(
                    "body",
                    el("a", "Skip to content", href="#main", class_="skip"),
                    el(
                        "header",
                        el("a", "Rehab Monitor", href="/", class_="brand"),
                        _nav(request, user),
                        class_="top",
                    ),
                    el(
                        "p",
                        "Connection lost: the page will update again when the service answers.",
                        id="live-status",
                        class_="banner warn",
                        role="status",
                        hidden=True,
                    ),
                    _session_banner() if user is not None else None,
                    el("main", body, id="main", tabindex="-1"),
                    class_=body_class or None,
                    data_poll_s=POLL_S if live else None,
                ),
                lang="en",
            ),
        ]
    )


def html_response(request: Request, document: Html, *, status: int = 200) -> Response:
    """``document`` with an ETag (live pages poll with If-None-Match) and security headers."""
    body = document.encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "no-store",
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    left = getattr(request.state, "session_left_s", None)
    if left is not None:
        headers[SESSION_LEFT_HEADER] = str(left)
    if status == 200 and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers=headers
    )


def error_page(request: Request, *, status: int, message: str, user: Principal | None) -> Response:
    """A plain-language error page with a way back."""
    titles = {403: "Not allowed", 404: "Not found", 409: "Already done", 422: "Please check"}
    title = titles.get(status, "Something went wrong")
    body = el(
        "section",
        el("h1", title),
        el("p", message),
        el("p", el("a", "Back to the start page", href="/")),
        class_="card",
    )
    return html_response(request, page(request, title=title, body=body, user=user), status=status)
