"""Patient records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import AsyncConnection
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.accounts import DEFAULT_TEAM, ensure_team

__all__ = ["PatientIn", "PatientRecord", "add_patient", "get_patient", "list_patients"]

SurgeryType = Literal["discectomy", "laminectomy", "fusion", "other"]
Approach = Literal["open", "minimally_invasive", "endoscopic"]


class PatientIn(BaseModel):
    """A new patient, as the CLI and the API accept it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str = Field(min_length=1, max_length=200, examples=["A. Patient"])
    birth_year: int = Field(ge=1900, le=2100, examples=[1961])
    tz: str = Field(examples=["Europe/Berlin"], description="IANA time zone of the patient's home")
    surgery_type: SurgeryType
    surgery_date: date
    approach: Approach = "open"

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)") from None
        return value


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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


_SELECT = (
    "SELECT id, team_id, display_name, birth_year, tz, surgery_type, surgery_date, approach,"
    " created_at FROM patients"
)


async def add_patient(
    conn: AsyncConnection[Any], patient: PatientIn, *, team: str = DEFAULT_TEAM
) -> UUID:
    async with conn.transaction():
        team_id = await ensure_team(conn, team)
        cur = await conn.execute(
            "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
            " surgery_date, approach) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                team_id,
                patient.display_name,
                patient.birth_year,
                patient.tz,
                patient.surgery_type,
                patient.surgery_date,
                patient.approach,
            ),
        )
        row = await cur.fetchone()
    assert row is not None
    return UUID(str(row[0]))


async def get_patient(conn: AsyncConnection[Any], patient_id: UUID) -> PatientRecord | None:
    cur = conn.cursor(row_factory=class_row(PatientRecord))
    await cur.execute(_SELECT + " WHERE id = %s", (patient_id,))
    return await cur.fetchone()


async def list_patients(
    conn: AsyncConnection[Any], *, team_ids: tuple[UUID, ...] | None
) -> list[PatientRecord]:
    """Patients of ``team_ids`` (all patients when ``None``), by name."""
    cur = conn.cursor(row_factory=class_row(PatientRecord))
    if team_ids is None:
        await cur.execute(_SELECT + " ORDER BY display_name, id")
    else:
        await cur.execute(
            _SELECT + " WHERE team_id = ANY(%s) ORDER BY display_name, id",
            (list(team_ids),),
        )
    return await cur.fetchall()
