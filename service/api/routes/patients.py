"""Patients visible to the caller."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import Conn, CurrentUser
from service.api.problems import PROBLEM_RESPONSES
from service.patients import PatientRecord, list_patients, patient_for

router = APIRouter(prefix="/v1/patients", tags=["patients"], responses=PROBLEM_RESPONSES)


class PatientOut(BaseModel):
    id: UUID
    display_name: str
    birth_year: int
    tz: str
    surgery_type: str
    surgery_date: date
    approach: str

    @classmethod
    def of(cls, p: PatientRecord) -> PatientOut:
        return cls(
            id=p.id,
            display_name=p.display_name,
            birth_year=p.birth_year,
            tz=p.tz,
            surgery_type=p.surgery_type,
            surgery_date=p.surgery_date,
            approach=p.approach,
        )


@router.get("")
async def patients(conn: Conn, user: CurrentUser) -> list[PatientOut]:
    """The caller's patients: their teams' for clinicians, their own for a patient."""
    if user.role == "patient":
        assert user.patient_id is not None
        return [PatientOut.of(await patient_for(conn, user, user.patient_id))]
    team_ids = None if user.role == "admin" else user.team_ids
    return [PatientOut.of(p) for p in await list_patients(conn, team_ids=team_ids)]


@router.get("/{patient_id}")
async def patient(patient_id: UUID, conn: Conn, user: CurrentUser) -> PatientOut:
    """One patient record."""
    return PatientOut.of(await patient_for(conn, user, patient_id))
