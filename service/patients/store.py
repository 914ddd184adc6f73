"""Patient records: creation, reading, and changes that keep who/when/old/new."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import AsyncConnection, errors
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.accounts import DEFAULT_TEAM, ensure_team
from service.errors import ConflictError
from service.validators import CLEARANCE_FIELDS, check_surgery_date, problems_before_surgery

__all__ = [
    "PATIENT_COLUMNS",
    "PatientIn",
    "PatientRecord",
    "add_patient",
    "get_patient",
    "list_patients",
]

SurgeryType = Literal["discectomy", "laminectomy", "fusion", "other"]
Approach = Literal["open", "minimally_invasive", "endoscopic"]

# Heart-rate settings: the schema's CHECK bounds (migration 0003), beats/min.
HR_MIN_BPM, HR_MAX_BPM = 20, 250


def record_number_taken(record_number: str | None) -> ConflictError:
    """The error for a record number another patient of the team already has."""
    return ConflictError(
        f"another patient of this team already has record number {record_number}",
        field="record_number",
    )


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)") from None
    return value


class PatientIn(BaseModel):
    """A new patient, as the CLI and the API accept it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str = Field(min_length=1, max_length=200, examples=["A. Patient"])
    birth_year: int = Field(ge=1900, le=2100, examples=[1961])
    tz: str = Field(examples=["Europe/Berlin"], description="IANA time zone of the patient's home")
    surgery_type: SurgeryType
    surgery_date: date
    approach: Approach = "open"
    resting_hr_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    max_hr_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    hr_limit_bpm: float | None = Field(default=None, ge=HR_MIN_BPM, le=HR_MAX_BPM)
    beta_blocker: bool = False
    running_cleared_on: date | None = None
    swimming_cleared_on: date | None = None
    elliptical_cleared_on: date | None = None
    record_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"\S",
        examples=["MRN-0042"],
        description="the clinic's own record number (MRN); unique within the team",
    )

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("surgery_date")
    @classmethod
    def _surgery_bounds(cls, value: date) -> date:
        return check_surgery_date(value)

    @model_validator(mode="after")
    def _cleared_after_surgery(self) -> PatientIn:
        dates = {k: getattr(self, k) for k in CLEARANCE_FIELDS}
        for problem in problems_before_surgery(self.surgery_date, dates):
            raise ValueError(f"{problem['loc'][0]} {problem['msg']}")
        return self


@dataclass(frozen=True)
class PatientRecord:
    id: UUID
    team_id: UUID
    display_name: str
    birth_year: int
    tz: str
    surgery_type: str
    surgery_date: date
    approach: str
    created_at: datetime
    resting_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    hr_limit_bpm: float | None = None
    beta_blocker: bool = False
    running_cleared_on: date | None = None
    swimming_cleared_on: date | None = None
    elliptical_cleared_on: date | None = None
    alert_suppression_h: int = 72
    alert_weekly_budget: int = 5
    record_number: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def cleared_on(self, activity: str) -> date | None:
        """The clearance date of ``running``, ``swimming`` or ``elliptical`` (``None``: not yet)."""
        value: date | None = getattr(self, f"{activity}_cleared_on", None)
        return value


PATIENT_COLUMNS = tuple(f.name for f in fields(PatientRecord))
"""The columns of ``patients`` a :class:`PatientRecord` holds, in its field order."""
_COLUMNS = ", ".join(PATIENT_COLUMNS)
_SELECT = f"SELECT {_COLUMNS} FROM patients"  # noqa: S608 - constant column list

_INSERTED = (
    "display_name",
    "birth_year",
    "tz",
    "surgery_type",
    "surgery_date",
    "approach",
    "resting_hr_bpm",
    "max_hr_bpm",
    "hr_limit_bpm",
    "beta_blocker",
    "running_cleared_on",
    "swimming_cleared_on",
    "elliptical_cleared_on",
    "record_number",
)


async def add_patient(
    conn: AsyncConnection[Any],
    patient: PatientIn,
    *,
    team: str = DEFAULT_TEAM,
    team_id: UUID | None = None,
) -> UUID:
    """Insert ``patient`` into ``team_id`` (or the team called ``team``, created on first use)."""
    async with conn.transaction():
        if team_id is None:
            team_id = await ensure_team(conn, team)
        placeholders = ", ".join(["%s"] * (len(_INSERTED) + 1))
        try:
            cur = await conn.execute(
                f"INSERT INTO patients (team_id, {', '.join(_INSERTED)})"  # noqa: S608 - constants
                f" VALUES ({placeholders}) RETURNING id",
                (team_id, *(getattr(patient, name) for name in _INSERTED)),
            )
        except errors.UniqueViolation as exc:
            raise record_number_taken(patient.record_number) from exc
        row = await cur.fetchone()
    assert row is not None
    return UUID(str(row[0]))


async def get_patient(conn: AsyncConnection[Any], patient_id: UUID) -> PatientRecord | None:
    cur = conn.cursor(row_factory=class_row(PatientRecord))
    await cur.execute(_SELECT + " WHERE id = %s", (patient_id,))
    return await cur.fetchone()


async def list_patients(
    conn: AsyncConnection[Any],
    *,
    team_ids: tuple[UUID, ...] | None,
    limit: int | None = None,
    offset: int = 0,
) -> list[PatientRecord]:
    """Patients of ``team_ids`` (all patients when ``None``), by name."""
    cur = conn.cursor(row_factory=class_row(PatientRecord))
    await cur.execute(
        _SELECT + " WHERE (%(all)s OR team_id = ANY(%(teams)s))"
        " ORDER BY display_name, id LIMIT %(limit)s OFFSET %(offset)s",
        {
            "all": team_ids is None,
            "teams": list(team_ids or ()),
            "limit": limit,
            "offset": offset,
        },
    )
    return await cur.fetchall()
