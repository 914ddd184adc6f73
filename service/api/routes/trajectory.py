"""A patient's recovery trajectory against their own baseline, and the baseline itself."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

import analysis
from service.api.deps import Conn, CurrentUser, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.trajectory import BaselineEntry, baseline_history, set_baseline, trajectory_of

router = APIRouter(prefix="/v1/patients", tags=["trajectory"], responses=PROBLEM_RESPONSES)


class BaselineOut(BaseModel):
    """The baseline in use: entered by the care team, measured before surgery, or none."""

    steps_per_day: float | None = Field(description="Median daily steps; null without a baseline.")
    source: str | None = Field(description="Where it came from, in plain language.")
    kind: Literal["pre_operative", "entered"] | None
    valid_days: int | None = Field(description="Valid pre-operative days behind a measured one.")
    measured_steps_per_day: float | None = Field(
        description="The measured pre-operative baseline, also when an entered one is in use."
    )


class WeekPointOut(BaseModel):
    week: int = Field(description="Week since surgery; week 1 starts on the surgery day.")
    start_date: date
    end_date: date
    complete: bool = Field(description="The week has ended in the patient's time zone.")
    valid_days: int = Field(description="Judged days of the week (enough wear, day ended).")
    median_steps: float | None
    median_aerobic_min: float | None
    pct_of_baseline: float | None = Field(description="Median steps as % of the baseline.")
    band_low_pct: float = Field(description="The expected band's low edge, % of baseline.")
    band_expected_pct: float
    band_high_pct: float = Field(description="The expected band's high edge, % of baseline.")
    position: Literal["below", "within", "above"] | None


class MilestoneOut(BaseModel):
    code: Literal["steps_by_week_6", "return_to_baseline"]
    label: str
    status: Literal["met", "missed", "pending", "not_applicable"]
    met_on: date | None = Field(description="The day it was met.")
    met_week: int | None
    due_week: int | None
    expected_by: date | None = Field(description="The day a typical patient meets it.")


class TrajectoryOut(BaseModel):
    """Weekly steps since surgery against the patient's baseline and the expected band."""

    baseline: BaselineOut
    band: str = Field(description="Expected band (by surgery approach), recovery.json.")
    recovery_version: str
    weeks: list[WeekPointOut]
    milestones: list[MilestoneOut]
    behind: bool = Field(description="Recovery is behind what is expected now (care team).")
    behind_reason: str | None


def trajectory_out(t: analysis.Trajectory) -> TrajectoryOut:
    """The API shape of a trajectory."""
    b = t.baseline
    return TrajectoryOut(
        baseline=BaselineOut(
            steps_per_day=b.steps_per_day if b else None,
            source=b.source if b else None,
            kind=b.kind if b else None,
            valid_days=b.valid_days if b else None,
            measured_steps_per_day=t.preoperative.steps_per_day if t.preoperative else None,
        ),
        band=t.band,
        recovery_version=t.version,
        weeks=[WeekPointOut(**vars(w)) for w in t.weeks],
        milestones=[MilestoneOut(**vars(m)) for m in t.milestones],
        behind=t.behind,
        behind_reason=t.behind_reason,
    )


@router.get("/{patient_id}/trajectory")
async def trajectory(patient_id: UUID, patient: ScopedPatient, conn: Conn) -> TrajectoryOut:
    """The recovery trajectory: baseline, weekly points against the band, milestones."""
    return trajectory_out(await trajectory_of(conn, patient))


class BaselineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"steps_per_day": 6500, "source": "patient's phone, last 3 months"}]
        },
    )

    steps_per_day: int | None = Field(
        ge=100,
        le=60_000,
        description="Usual daily steps before surgery; null withdraws the entered baseline.",
    )
    source: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ] = Field(description='Where it came from, e.g. "patient\'s phone, last 3 months".')


class BaselineEntryOut(BaseModel):
    steps_per_day: int | None
    source: str
    entered_by: UUID | None
    entered_at: datetime


class BaselineHistoryOut(BaseModel):
    baseline: BaselineOut
    history: list[BaselineEntryOut] = Field(description="Entered baselines, newest first.")


def _entry(e: BaselineEntry) -> BaselineEntryOut:
    return BaselineEntryOut(
        steps_per_day=e.steps_per_day,
        source=e.source,
        entered_by=e.entered_by,
        entered_at=e.entered_at,
    )


async def _history(conn: Conn, patient: ScopedPatient) -> BaselineHistoryOut:
    t = await trajectory_of(conn, patient)
    return BaselineHistoryOut(
        baseline=trajectory_out(t).baseline,
        history=[_entry(e) for e in await baseline_history(conn, patient.id)],
    )


@router.put("/{patient_id}/baseline")
async def put_baseline(
    patient_id: UUID, body: BaselineIn, patient: ScopedPatient, conn: Conn, user: CurrentUser
) -> BaselineHistoryOut:
    """Enter the patient's pre-operative baseline with its source (kept with its history)."""
    async with conn.transaction():
        await set_baseline(
            conn,
            patient_id=patient.id,
            steps_per_day=body.steps_per_day,
            source=body.source,
            by=user.user_id,
        )
    return await _history(conn, patient)


@router.get("/{patient_id}/baseline")
async def get_baseline(patient_id: UUID, patient: ScopedPatient, conn: Conn) -> BaselineHistoryOut:
    """The baseline in use and the history of entered baselines."""
    return await _history(conn, patient)
