"""The object-level access rule for patient-scoped data, applied and audited in one statement.

Clinicians see the patients of their teams, a patient sees only their own record, admins see all.
Anything else answers "not found", so the existence of another team's patient does not leak.

:func:`check_patient_access` is the only place the rule is written: PostgreSQL applies it in the
statement that finds the caller, reads the patient and appends the decision to the audit log, so
that a checked request costs one round trip and the audit entry is committed before the caller's
route reads any patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection

from service.accounts import PRINCIPAL_COLUMNS, PRINCIPAL_SQL, Principal, principal_of
from service.auth import hash_token
from service.patients.store import PATIENT_COLUMNS, PatientRecord

__all__ = ["Decision", "PatientAccess", "check_patient_access"]

Decision = Literal["allowed", "not_visible", "care_team_only"]
"""``not_visible``: no such patient, or not the caller's (404). ``care_team_only``: the patient
themselves on a route for their care team (403)."""

# The caller as the web views already know it (session cookie), in PRINCIPAL_SQL's columns.
_GIVEN_PRINCIPAL = (
    "SELECT %(user_id)s::uuid AS user_id, %(email)s::text AS email, %(role)s::text AS role,"
    " %(patient_id)s::uuid AS patient_id, %(team_ids)s::uuid[] AS team_ids"
)
# The rule: admins see all, a patient their own record, anyone else their teams' patients.
_VISIBLE = (
    "p.id IS NOT NULL AND coalesce(CASE c.role WHEN 'admin' THEN true"
    " WHEN 'patient' THEN c.patient_id = p.id ELSE p.team_id = ANY (c.team_ids) END, false)"
)
_PATIENT = ", ".join(f"p.{column}" for column in PATIENT_COLUMNS)
_CHECK = (
    "WITH caller AS ({caller}),"  # noqa: S608 - constant SQL and column lists
    " seen AS (SELECT c.*,"
    f" CASE WHEN NOT ({_VISIBLE}) THEN 'not_visible'"
    " WHEN %(care_team_only)s AND c.role = 'patient' THEN 'care_team_only' ELSE 'allowed' END"
    f" AS decision, {_PATIENT}"
    " FROM caller c LEFT JOIN patients p ON p.id = %(patient)s),"
    # Every decision on a named patient is recorded; a malformed id names none.
    " audit AS (INSERT INTO audit_log (actor_kind, actor_id, action, patient_id, outcome)"
    " SELECT 'user', s.user_id, %(action)s, %(patient)s,"
    " CASE s.decision WHEN 'allowed' THEN 'allowed' ELSE 'denied' END"
    " FROM seen s WHERE %(patient)s::uuid IS NOT NULL)"
    " SELECT * FROM seen"
)
_CHECK_TOKEN = _CHECK.format(caller=PRINCIPAL_SQL)
_CHECK_PRINCIPAL = _CHECK.format(caller=_GIVEN_PRINCIPAL)


@dataclass(frozen=True)
class PatientAccess:
    principal: Principal
    decision: Decision
    patient: PatientRecord | None
    """The patient when the decision is ``allowed``, else ``None``."""


async def check_patient_access(
    conn: AsyncConnection[Any],
    caller: str | Principal,
    patient_id: UUID | None,
    *,
    action: str,
    care_team_only: bool,
) -> PatientAccess:
    """Decide whether ``caller`` may do ``action`` on ``patient_id`` and record the decision.

    ``caller`` is a bearer token (``AuthenticationError`` unless it is live, checked first) or an
    already authenticated principal. ``care_team_only`` refuses the patient themselves. A
    ``patient_id`` of ``None`` (a malformed id in a path) is ``not_visible`` and not recorded.
    """
    params: dict[str, Any] = {
        "patient": patient_id,
        "action": action,
        "care_team_only": care_team_only,
    }
    if isinstance(caller, str):
        params["token_hash"] = hash_token(caller)
        cur = await conn.execute(_CHECK_TOKEN, params)
    else:
        params.update(vars(caller), team_ids=list(caller.team_ids))
        cur = await conn.execute(_CHECK_PRINCIPAL, params)
    row = await cur.fetchone()
    principal = principal_of(row) if isinstance(caller, str) else caller
    assert row is not None
    decision: Decision = row[PRINCIPAL_COLUMNS]
    patient = row[PRINCIPAL_COLUMNS + 1 :]
    return PatientAccess(
        principal=principal,
        decision=decision,
        patient=PatientRecord(*patient) if decision == "allowed" else None,
    )
