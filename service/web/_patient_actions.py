"""Form posts of the patient page: acknowledge or resolve an alert, plan overrides, settings.

Each post checks the session, its CSRF token and the same access rule as the API routes
(the patient's team's clinicians and admins), then redirects back (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from service.accounts import Principal
from service.alerts import acknowledge, get_alert, resolve
from service.api.deps import Conn
from service.errors import NotFoundError, PermissionDeniedError
from service.patients import (
    PatientPatch,
    PatientRecord,
    PlanOverrideIn,
    add_plan_override,
    update_patient,
)
from service.web._guard import care_team_patient, validation_message, web_errors
from service.web._login import login_again
from service.web._patient_page import render_patient_page
from service.web._session import check_csrf, principal_or_none

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_PATIENT_FIELDS = (
    "running_cleared_on",
    "swimming_cleared_on",
    "elliptical_cleared_on",
    "resting_hr_bpm",
    "max_hr_bpm",
    "hr_limit_bpm",
)
_OVERRIDE_FIELDS = (
    "effective_from",
    "aerobic_min_low",
    "aerobic_min_high",
    "max_session_min",
    "hr_limit_bpm",
    "running_cleared",
    "swimming_cleared",
    "elliptical_cleared",
    "note",
)


async def _care_team(
    request: Request, conn: Conn, pid: str, csrf: str, action: str
) -> tuple[Principal, PatientRecord] | Response:
    user = await principal_or_none(conn, request)
    if user is None:
        return await login_again(request)
    check_csrf(request, csrf)
    if user.role == "patient":
        raise PermissionDeniedError("only the care team may do this")
    return user, await care_team_patient(conn, user, pid, action=action)


def _back(patient: PatientRecord, notice: str, anchor: str) -> Response:
    return RedirectResponse(f"/patients/{patient.id}?notice={notice}#{anchor}", status_code=303)


@router.post("/patients/{pid}/alerts/{alert_id}/{verb}")
@web_errors
async def alert_action(
    request: Request,
    conn: Conn,
    pid: str,
    alert_id: int,
    verb: str,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Acknowledge or resolve one of the patient's alerts, with a note."""
    if verb not in ("acknowledge", "resolve"):
        raise NotFoundError(f"no alert action {verb}")
    found = await _care_team(
        request, conn, pid, csrf, "POST /patients/{pid}/alerts/{alert_id}/{verb}"
    )
    if isinstance(found, Response):
        return found
    user, patient = found
    alert = await get_alert(conn, alert_id)
    if alert.patient_id != patient.id:
        raise NotFoundError(f"no alert {alert_id}")
    if verb == "acknowledge":
        await acknowledge(conn, alert_id, by=user.user_id, note=note.strip())
        return _back(patient, "acknowledged", "alerts")
    await resolve(conn, alert_id, by=user.user_id, note=note.strip())
    return _back(patient, "resolved", "alerts")


def _values(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """Form fields by name; an empty field means "not set" (``None``)."""
    return {name: (str(form.get(name) or "").strip() or None) for name in names if name in form}


@router.post("/patients/{pid}/plan-overrides")
@web_errors
async def add_override(request: Request, conn: Conn, pid: str) -> Response:
    """Add a plan override from the editor."""
    form = await request.form()
    found = await _care_team(
        request,
        conn,
        pid,
        str(form.get("csrf") or ""),
        "POST /patients/{pid}/plan-overrides",
    )
    if isinstance(found, Response):
        return found
    user, patient = found
    values = {k: v for k, v in _values(form, _OVERRIDE_FIELDS).items() if v is not None}
    try:
        override = PlanOverrideIn.model_validate(values)
    except ValidationError as exc:
        return await render_patient_page(
            request, conn, user, patient, chosen_day=None, error=validation_message(exc), status=422
        )
    await add_plan_override(conn, patient_id=patient.id, override=override, by=user.user_id)
    return _back(patient, "override", "plan")


@router.post("/patients/{pid}/settings")
@web_errors
async def change_settings(request: Request, conn: Conn, pid: str) -> Response:
    """Save clearance dates and heart-rate settings; empty fields clear them."""
    form = await request.form()
    found = await _care_team(
        request,
        conn,
        pid,
        str(form.get("csrf") or ""),
        "POST /patients/{pid}/settings",
    )
    if isinstance(found, Response):
        return found
    user, patient = found
    values = _values(form, _PATIENT_FIELDS)
    values["beta_blocker"] = form.get("beta_blocker") == "true"
    # Only what changed goes into the record's history.
    current = {name: getattr(patient, name) for name in values}
    try:
        patch = PatientPatch.model_validate(values)
    except ValidationError as exc:
        return await render_patient_page(
            request, conn, user, patient, chosen_day=None, error=validation_message(exc), status=422
        )
    changed = {k for k, v in patch.model_dump().items() if k in values and v != current[k]}
    if changed:
        await update_patient(
            conn,
            patient,
            PatientPatch.model_validate({k: getattr(patch, k) for k in changed}),
            by=user.user_id,
        )
    return _back(patient, "settings", "plan")
