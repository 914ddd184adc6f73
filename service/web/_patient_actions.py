"""Form posts of the patient page: acknowledge or resolve an alert, plan overrides, settings.

The access table (``web_care_team``) has checked the session, the form's CSRF token and the
patient (the patient's team's clinicians and admins) before a handler runs; a handler validates,
stores and redirects back (post/redirect/get), or shows the page again with the reasons.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from psycopg import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from service.alerts import acknowledge, get_alert, resolve
from service.api.deps import Conn, PageUser, ScopedPatient
from service.errors import NotFoundError
from service.patients import (
    PatientPatch,
    PatientRecord,
    PlanOverrideIn,
    add_plan_override,
    update_patient,
)
from service.web._guard import form_errors, web_errors
from service.web._patient_editor import OVERRIDE_CHANGES
from service.web._patient_page import render_patient_page

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
_OVERRIDE_FIELDS = ("effective_from", *OVERRIDE_CHANGES, "note")


async def _page_again(request: Request, conn: AsyncConnection[Any], reasons: str) -> Response:
    """The patient page with a rejected form's reasons."""
    return await render_patient_page(
        request,
        conn,
        request.state.principal,
        request.state.patient,
        chosen_day=None,
        error=reasons,
        status=422,
    )


def _back(patient: PatientRecord, notice: str, anchor: str) -> Response:
    return RedirectResponse(f"/patients/{patient.id}?notice={notice}#{anchor}", status_code=303)


@router.post("/patients/{pid}/alerts/{alert_id}/{verb}")
@web_errors
async def alert_action(
    request: Request,
    conn: Conn,
    user: PageUser,
    patient: ScopedPatient,
    alert_id: int,
    verb: str,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Acknowledge or resolve one of the patient's alerts, with a note."""
    if verb not in ("acknowledge", "resolve"):
        raise NotFoundError(f"no alert action {verb}")
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
@form_errors(_page_again)
async def add_override(
    request: Request, conn: Conn, user: PageUser, patient: ScopedPatient
) -> Response:
    """Add a plan override from the editor."""
    values = _values(await request.form(), _OVERRIDE_FIELDS)
    override = PlanOverrideIn.model_validate({k: v for k, v in values.items() if v is not None})
    await add_plan_override(conn, patient_id=patient.id, override=override, by=user.user_id)
    return _back(patient, "override", "plan")


@router.post("/patients/{pid}/settings")
@form_errors(_page_again)
async def change_settings(
    request: Request, conn: Conn, user: PageUser, patient: ScopedPatient
) -> Response:
    """Save clearance dates and heart-rate settings; empty fields clear them."""
    form = await request.form()
    values = _values(form, _PATIENT_FIELDS)
    values["beta_blocker"] = form.get("beta_blocker") == "true"
    # Only what changed goes into the record's history.
    current = {name: getattr(patient, name) for name in values}
    patch = PatientPatch.model_validate(values)
    changed = {k for k, v in patch.model_dump().items() if k in values and v != current[k]}
    if changed:
        await update_patient(
            conn,
            patient,
            PatientPatch.model_validate({k: getattr(patch, k) for k in changed}),
            by=user.user_id,
        )
    return _back(patient, "settings", "plan")
