"""Patient records: list, create, read, change (with history) and plan overrides."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel

from service.api.deps import Conn, CurrentUser, Page, ScopedPatient, paged
from service.api.problems import PROBLEM_RESPONSES
from service.errors import NotFoundError, ValidationFailedError
from service.patients import (
    PatientChange,
    PatientIn,
    PatientPatch,
    PatientRecord,
    PlanOverrideIn,
    PlanOverrideRecord,
    add_patient,
    add_plan_override,
    get_patient,
    list_changes,
    list_patients,
    list_plan_overrides,
    update_patient,
)

router = APIRouter(prefix="/v1/patients", tags=["patients"], responses=PROBLEM_RESPONSES)


class PatientOut(BaseModel):
    id: UUID
    team_id: UUID
    display_name: str
    birth_year: int
    tz: str
    surgery_type: str
    surgery_date: date
    approach: str
    resting_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    hr_limit_bpm: float | None = None
    beta_blocker: bool = False
    running_cleared_on: date | None = None
    swimming_cleared_on: date | None = None
    elliptical_cleared_on: date | None = None
    alert_suppression_h: int
    alert_weekly_budget: int
    record_number: str | None = None

    @classmethod
    def of(cls, p: PatientRecord) -> PatientOut:
        fields = asdict(p)
        return cls.model_validate({k: fields[k] for k in cls.model_fields})


class PatientCreate(PatientIn):
    """A new patient; ``team_id`` may be left out by a clinician of exactly one team."""

    team_id: UUID | None = None


@router.get("")
async def patients(
    request: Request, response: Response, conn: Conn, user: CurrentUser, page: Page
) -> list[PatientOut]:
    """The caller's patients: their teams' for clinicians, their own for a patient (paged)."""
    if user.role == "patient":
        assert user.patient_id is not None
        own = await get_patient(conn, user.patient_id)
        return [PatientOut.of(own)] if own is not None else []
    team_ids = None if user.role == "admin" else user.team_ids
    rows = await list_patients(conn, team_ids=team_ids, limit=page.fetch, offset=page.offset)
    return [PatientOut.of(p) for p in paged(request, response, page, rows)]


@router.post("", status_code=201)
async def create_patient(
    body: Annotated[
        PatientCreate,
        Body(
            examples=[
                {
                    "display_name": "A. Patient",
                    "birth_year": 1961,
                    "tz": "Europe/Berlin",
                    "surgery_type": "fusion",
                    "surgery_date": "2026-05-04",
                    "approach": "open",
                    "hr_limit_bpm": 120,
                }
            ]
        ),
    ],
    conn: Conn,
    user: CurrentUser,
) -> PatientOut:
    """Create a patient in one of the caller's teams."""
    team_id = body.team_id
    if team_id is None:
        if len(user.team_ids) != 1:
            raise ValidationFailedError(
                "team_id is required for callers in several (or no) teams",
                errors=[{"loc": ["team_id"], "msg": "required"}],
            )
        team_id = user.team_ids[0]
    if user.role != "admin" and team_id not in user.team_ids:
        raise NotFoundError(f"no team {team_id}")
    patient_id = await add_patient(
        conn, PatientIn.model_validate(body.model_dump(exclude={"team_id"})), team_id=team_id
    )
    created = await get_patient(conn, patient_id)
    assert created is not None
    return PatientOut.of(created)


@router.get("/{patient_id}")
async def patient(patient_id: UUID, patient: ScopedPatient) -> PatientOut:
    """One patient record."""
    return PatientOut.of(patient)


@router.patch("/{patient_id}")
async def patch_patient(
    patient_id: UUID, body: PatientPatch, patient: ScopedPatient, conn: Conn, user: CurrentUser
) -> PatientOut:
    """Change fields of a patient record; each change is kept with who, when, old and new."""
    await update_patient(conn, patient, body, by=user.user_id)
    updated = await get_patient(conn, patient.id)
    assert updated is not None
    return PatientOut.of(updated)


@router.get("/{patient_id}/history")
async def history(
    request: Request,
    response: Response,
    patient_id: UUID,
    patient: ScopedPatient,
    conn: Conn,
    page: Page,
) -> list[PatientChange]:
    """Every change of the record, oldest first (paged)."""
    rows = await list_changes(conn, patient_id=patient.id, after_id=page.cursor, limit=page.fetch)
    return paged(request, response, page, rows, cursor_of=lambda r: r.id)


@router.get("/{patient_id}/plan-overrides")
async def plan_overrides(
    patient_id: UUID, patient: ScopedPatient, conn: Conn
) -> list[PlanOverrideRecord]:
    """The patient's plan overrides, in the order they take effect."""
    return await list_plan_overrides(conn, patient_id=patient.id)


@router.post("/{patient_id}/plan-overrides", status_code=201)
async def add_override(
    patient_id: UUID, body: PlanOverrideIn, patient: ScopedPatient, conn: Conn, user: CurrentUser
) -> PlanOverrideRecord:
    """Add a plan override from ``effective_from`` on; days from then on are recomputed."""
    return await add_plan_override(conn, patient_id=patient.id, override=body, by=user.user_id)
