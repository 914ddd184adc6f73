"""The object-level access rule for patient-scoped data.

Clinicians see the patients of their teams, a patient sees only their own record, admins see all.
Anything else answers "not found", so the existence of another team's patient does not leak.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.accounts import Principal
from service.errors import NotFoundError
from service.patients.store import PatientRecord, get_patient

__all__ = ["may_see", "patient_for"]


def may_see(principal: Principal, patient: PatientRecord) -> bool:
    if principal.role == "admin":
        return True
    if principal.role == "patient":
        return principal.patient_id == patient.id
    return patient.team_id in principal.team_ids


async def patient_for(
    conn: AsyncConnection[Any], principal: Principal, patient_id: UUID
) -> PatientRecord:
    """The patient if ``principal`` may see it; ``NotFoundError`` otherwise."""
    patient = await get_patient(conn, patient_id)
    if patient is None or not may_see(principal, patient):
        raise NotFoundError(f"no patient {patient_id}", patient_id=str(patient_id))
    return patient
