"""The web views served at ``/``: the care team's patient list and patient pages, the patient's day.

Server-rendered HTML with a small hand-written script for live updates; no third-party front-end
code, no CDN. Include :data:`router` in the app (``app.include_router(web.router)``).

Pages authenticate with the API's bearer token kept in an HttpOnly, SameSite=Strict cookie
(``service.web._session``). Who may see a page is a row of the API's access table
(``service.api.access``, the ``web_*`` policies), checked with the form's CSRF token before any
handler runs; a refusal answers as a page (``_refusals``: the login form and back, the user's home
page, or an error page; another team's patient is not found). Handlers take the checked user and
patient as dependencies (``service.api.deps.PageUser``, ``ScopedPatient``); a form handler
validates and lets a rejected form come back as its page (``_guard.form_errors``). The charts draw
with the shared primitives of ``_svg``.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.web import (
    _exports,
    _import_upload,
    _login,
    _me,
    _me_checkin,
    _patient_actions,
    _patient_page,
    _static,
    _team,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (
    _login,
    _static,
    _team,
    _patient_page,
    _patient_actions,
    _me,
    _me_checkin,
    _import_upload,
    _exports,
):
    router.include_router(_module.router)
