"""Changes to a patient record and plan overrides, each kept with who, when, old and new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson
from psycopg import AsyncConnection, errors, sql
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.errors import NotFoundError, ValidationFailedError
from service.patients.store import (
    HR_MAX_BPM,
    HR_MIN_BPM,
    PATIENT_COLUMNS,
    Approach,
    PatientRecord,
    SurgeryType,
    check_zone,
    record_number_taken,
)
from service.validators import CLEARANCE_FIELDS, check_surgery_date, problems_before_surgery

__all__ = [
    "PatientChange",
    "PatientPatch",
    "PlanOverrideIn",
    "PlanOverrideRecord",
    "add_plan_override",
    "list_changes",
    "list_plan_overrides",
    "update_patient",
]


class PatientPatch(BaseModel):
    """Fields to change; fields left out stay as they are, ``null`` clears an optional one."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"hr_limit_bpm": 118, "running_cleared_on": None}]},
    )

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    tz: str | None = None
    surgery_type: SurgeryType | None = None
    surgery_date: date | None = None
    approach: Approach | None = None
    resting_hr_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    max_hr_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    hr_limit_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    beta_blocker: bool | None = None
    running_cleared_on: date | None = None
    swimming_cleared_on: date | None = None
    elliptical_cleared_on: date | None = None
    # Bounds: the schema's CHECKs (migration 0010).
    alert_suppression_h: int | None = Field(default=None, ge=0, le=720)
    alert_weekly_budget: int | None = Field(default=None, ge=0, le=100)
    # The clinic's record number (MRN); null clears it.
    record_number: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"\S")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("surgery_date")
    @classmethod
    def _surgery_bounds(cls, value: date | None) -> date | None:
        return None if value is None else check_surgery_date(value)


# Columns that must not be set to null (NOT NULL in the schema).
_REQUIRED = frozenset(
    {
        "display_name",
        "birth_year",
        "tz",
        "surgery_type",
        "surgery_date",
        "approach",
        "beta_blocker",
        "alert_suppression_h",
        "alert_weekly_budget",
    }
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def update_patient(
    conn: AsyncConnection[Any], patient: PatientRecord, patch: PatientPatch, *, by: UUID | None
) -> list[str]:
    """Apply ``patch`` to ``patient`` in one transaction; return the names of changed fields."""
    wanted = patch.model_dump(exclude_unset=True, mode="json")
    nulls = sorted(k for k, v in wanted.items() if v is None and k in _REQUIRED)
    if nulls:
        raise ValidationFailedError(
            f"{nulls[0]} cannot be cleared",
            errors=[{"loc": [k], "msg": "may not be null"} for k in nulls],
        )
    try:
        async with conn.transaction():
            # Row lock: a concurrent PATCH of this patient waits here until this one commits, then
            # reads what it wrote, so each history row's old value is the previous row's new one.
            patient = await _locked(conn, patient.id)
            current = {
                k: orjson.loads(orjson.dumps(getattr(patient, k)))
                for k in PatientPatch.model_fields
            }
            changed = {k: v for k, v in wanted.items() if current[k] != v}
            if not changed:
                return []
            typed = patch.model_dump(include=set(changed))
            _check_dates(patient, typed)
            await _apply(conn, patient, typed, current, changed, by=by)
    except errors.UniqueViolation as exc:
        raise record_number_taken(typed.get("record_number")) from exc
    return sorted(changed)


_LOCK_SQL = f"SELECT {', '.join(PATIENT_COLUMNS)} FROM patients WHERE id = %s FOR UPDATE"  # noqa: S608 - constant column list


async def _locked(conn: AsyncConnection[Any], patient_id: UUID) -> PatientRecord:
    cur = conn.cursor(row_factory=class_row(PatientRecord))
    await cur.execute(_LOCK_SQL, (patient_id,))
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"no patient {patient_id}")
    return row


def _check_dates(patient: PatientRecord, typed: dict[str, Any]) -> None:
    """Clearances set by the patch (all of them when the surgery date moves) not before surgery."""
    surgery = typed.get("surgery_date", patient.surgery_date)
    names = (
        CLEARANCE_FIELDS if "surgery_date" in typed else [k for k in typed if k in CLEARANCE_FIELDS]
    )
    problems = problems_before_surgery(
        surgery, {k: typed.get(k, getattr(patient, k)) for k in names}
    )
    if problems:
        where = problems[0]["loc"][0]
        raise ValidationFailedError(f"{where}: {problems[0]['msg']}", errors=problems)


async def _apply(
    conn: AsyncConnection[Any],
    patient: PatientRecord,
    typed: dict[str, Any],
    current: dict[str, Any],
    changed: dict[str, Any],
    *,
    by: UUID | None,
) -> None:
    async with conn.transaction():
        await conn.execute(
            sql.SQL("UPDATE patients SET {}, updated_at = now() WHERE id = {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in typed
                ),
                sql.Literal(patient.id),
            ),
            typed,
        )
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO patient_changes (patient_id, field, old_value, new_value, changed_by)"
                " VALUES (%s, %s, %s::jsonb, %s::jsonb, %s)",
                [
                    (patient.id, k, _json(current[k]), _json(v), by)
                    for k, v in sorted(changed.items())
                ],
            )


@dataclass(frozen=True)
class PatientChange:
    id: int
    field: str
    old_value: Any
    new_value: Any
    changed_by: UUID | None
    changed_at: datetime


async def list_changes(
    conn: AsyncConnection[Any], *, patient_id: UUID, after_id: int | None, limit: int
) -> list[PatientChange]:
    """The patient's change history, oldest first, after ``after_id``."""
    cur = conn.cursor(row_factory=class_row(PatientChange))
    await cur.execute(
        "SELECT id, field, old_value, new_value, changed_by, changed_at FROM patient_changes"
        " WHERE patient_id = %s AND id > %s ORDER BY id LIMIT %s",
        (patient_id, after_id or 0, limit),
    )
    return await cur.fetchall()


class PlanOverrideIn(BaseModel):
    """A change to the progression plan from ``effective_from`` on (unset fields: the plan's)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "effective_from": "2026-05-20",
                    "max_session_min": 20,
                    "note": "keep sessions short until the wound check",
                }
            ]
        },
    )

    effective_from: date
    # 600 min (10 h) a day bounds typing mistakes, far above any rehabilitation plan (tunable).
    aerobic_min_low: float | None = Field(default=None, ge=0, le=600)
    aerobic_min_high: float | None = Field(default=None, ge=0, le=600)
    # At least 1 min: the analysis works on a minute grid (a shorter limit cannot be observed).
    max_session_min: float | None = Field(default=None, ge=1, le=600)
    hr_limit_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    running_cleared: bool | None = None
    swimming_cleared: bool | None = None
    elliptical_cleared: bool | None = None
    # Tunable default: notes are a few sentences; 2,000 characters bounds the row.
    note: str = Field(default="", max_length=2000)

    @field_validator("aerobic_min_low", "aerobic_min_high", "max_session_min")
    @classmethod
    def _minute_resolution(cls, value: float | None) -> float | None:
        # Minutes to 0.01 (0.6 s): keeps values like 1e-300 out of the `real` columns.
        return None if value is None else round(value, 2)

    @model_validator(mode="after")
    def _ordered(self) -> PlanOverrideIn:
        low, high = self.aerobic_min_low, self.aerobic_min_high
        if low is not None and high is not None and low > high:
            raise ValueError("aerobic_min_low must not exceed aerobic_min_high")
        return self


@dataclass(frozen=True)
class PlanOverrideRecord:
    id: int
    effective_from: date
    aerobic_min_low: float | None
    aerobic_min_high: float | None
    max_session_min: float | None
    hr_limit_bpm: float | None
    running_cleared: bool | None
    swimming_cleared: bool | None
    elliptical_cleared: bool | None
    note: str
    created_by: UUID | None
    created_at: datetime


_OVERRIDE_FIELDS = tuple(PlanOverrideIn.model_fields)


async def add_plan_override(
    conn: AsyncConnection[Any], *, patient_id: UUID, override: PlanOverrideIn, by: UUID | None
) -> PlanOverrideRecord:
    """Append an override row (rows are never updated: past days keep the plan of their time)."""
    found = await conn.execute("SELECT surgery_date FROM patients WHERE id = %s", (patient_id,))
    surgery = await found.fetchone()
    if surgery is None:
        raise NotFoundError(f"no patient {patient_id}")
    problems = problems_before_surgery(surgery[0], {"effective_from": override.effective_from})
    if problems:
        raise ValidationFailedError(f"effective_from: {problems[0]['msg']}", errors=problems)
    cur = conn.cursor(row_factory=class_row(PlanOverrideRecord))
    await cur.execute(
        sql.SQL(
            "INSERT INTO plan_overrides (patient_id, created_by, {}) VALUES (%s, %s, {})"
            " RETURNING id, effective_from, aerobic_min_low, aerobic_min_high, max_session_min,"
            " hr_limit_bpm, running_cleared, swimming_cleared, elliptical_cleared, note,"
            " created_by, created_at"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, _OVERRIDE_FIELDS)),
            sql.SQL(", ").join(sql.Placeholder() * len(_OVERRIDE_FIELDS)),
        ),
        (patient_id, by, *(getattr(override, k) for k in _OVERRIDE_FIELDS)),
    )
    row = await cur.fetchone()
    assert row is not None
    # Overrides change how days are judged: have the worker recompute from the effective date.
    await conn.execute(
        "INSERT INTO dirty_days (patient_id, day) SELECT patient_id, day FROM daily_summaries"
        " WHERE patient_id = %s AND day >= %s ON CONFLICT DO NOTHING",
        (patient_id, override.effective_from),
    )
    return row


async def list_plan_overrides(
    conn: AsyncConnection[Any], *, patient_id: UUID
) -> list[PlanOverrideRecord]:
    """Every override of the patient, in the order they take effect."""
    cur = conn.cursor(row_factory=class_row(PlanOverrideRecord))
    await cur.execute(
        "SELECT id, effective_from, aerobic_min_low, aerobic_min_high, max_session_min,"
        " hr_limit_bpm, running_cleared, swimming_cleared, elliptical_cleared, note, created_by,"
        " created_at FROM plan_overrides WHERE patient_id = %s ORDER BY effective_from, id",
        (patient_id,),
    )
    return await cur.fetchall()
