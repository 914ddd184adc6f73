"""How a page answers when its access policy refuses, before its handler runs.

The policies themselves are rows of the API's rule table (``service.api.access``, the ``web_*``
policies), applied by the same app-wide dependency; a page differs only in how a refusal reads.
No live session: a page sends the browser to the login form and back (saying that the session
expired when it did), a live page's poll gets a bare 401, and a form post answers with the login
form carrying what was typed. A user on another role's page goes to their own home page; any
other refusal is an HTML error page (another team's patient: not found).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from service.accounts import Principal
from service.errors import ServiceError
from service.web._guard import home_of
from service.web._layout import error_page
from service.web._login import login_again
from service.web._session import is_poll, session_token

__all__ = [
    "PageAnswer",
    "answer_page",
    "login_required",
    "page_refused",
    "sent_home",
    "to_login",
]


class PageAnswer(Exception):
    """The answer a page gives instead of itself: raised by the access check, sent as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def answer_page(request: Request, exc: Exception) -> Response:
    """The exception handler that sends a :class:`PageAnswer`."""
    assert isinstance(exc, PageAnswer)
    return exc.response


def to_login(request: Request) -> Response:
    """Send an anonymous visitor to the login form, coming back here afterwards.

    A live page's poll gets a bare 401 instead, so that the page (and anything typed into it)
    stays; a browser that still holds a dead session cookie is told that the session expired.
    The start page needs no way back: the login form leads there by default.
    """
    if is_poll(request):
        return Response(status_code=401, headers={"Cache-Control": "no-store"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = [] if target == "/" else [f"next={quote(target, safe='/')}"]
    if session_token(request) is not None:
        query.append("expired=1")
    return RedirectResponse("/login" + ("?" + "&".join(query) if query else ""), status_code=303)


async def login_required(request: Request) -> PageAnswer:
    """No live session: the login form (a form post's fields kept), or the way to it."""
    if request.method == "POST":
        return PageAnswer(await login_again(request))
    return PageAnswer(to_login(request))


def sent_home(user: Principal) -> PageAnswer:
    """A page for another role: the user's own home page instead."""
    return PageAnswer(RedirectResponse(home_of(user), status_code=303))


def page_refused(request: Request, exc: ServiceError) -> PageAnswer:
    """Any other refusal as an error page (403, or 404 for a patient the caller may not see)."""
    return PageAnswer(error_page(request, status=exc.status, message=str(exc), user=None))
