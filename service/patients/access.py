"""The object-level access rule for patient-scoped data.

Clinicians see the patients of their teams, a patient sees only their own record, admins see all.
Anything else answers "not found", so the existence of another team's patient does not leak.
"""

from __future__ import annotations

from service.accounts import Principal
from service.patients.store import PatientRecord

__all__ = ["may_see"]


def may_see(principal: Principal, patient: PatientRecord) -> bool:
    if principal.role == "admin":
        return True
    if principal.role == "patient":
        return principal.patient_id == patient.id
    return patient.team_id in principal.team_ids
