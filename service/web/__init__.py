"""The web views served at ``/``: the care team's patient list and patient pages, the patient's day.

Server-rendered HTML with a small hand-written script for live updates; no third-party front-end
code, no CDN. Include :data:`router` in the app (``app.include_router(web.router)``).

Pages authenticate with the API's bearer token kept in an HttpOnly, SameSite=Strict cookie
(``service.web._session``) and apply the API's access rules: another team's patient is not found.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.web import (
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
for _module in (_login, _static, _team, _patient_page, _patient_actions, _me, _me_checkin):
    router.include_router(_module.router)
