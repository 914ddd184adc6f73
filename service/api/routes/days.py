"""Daily summaries, sessions and weekly progress of a patient (all patient-local days).

A range of days is one dependency: :data:`RangeQuery` (the ``from`` and ``to`` parameters, their
bounds and docs) and :data:`ServedRangeQuery` (that range's served days), shared by the days,
sessions, CSV and FHIR routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

import analysis
from service.api.deps import Conn, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.errors import NotFoundError, ValidationFailedError
from service.patients import PatientRecord
from service.summaries import ServedDay, load_summaries, served_days, sessions_json
from service.validators import EARLIEST_SURGERY_DATE
from service.worker.days import local_day

router = APIRouter(prefix="/v1/patients", tags=["days"], responses=PROBLEM_RESPONSES)

# A year of days per request keeps responses bounded (a full summary is a few kB).
MAX_DAYS_PER_REQUEST = 366


_DAYS_EXAMPLE = [
    {
        "date": "2026-05-10",
        "steps": 3120,
        "wear_minutes": 1310,
        "active_minutes": 24,
        "aerobic_minutes": 18,
        "aerobic_minutes_by_kind": {"walking": 18, "biking": 0, "running": 0},
        "sessions": [],
        "heart_rate": {
            "min": 52,
            "avg": 71.4,
            "max": 118,
            "min_bpm": 52,
            "mean_bpm": 71.4,
            "max_bpm": 118,
            "resting_bpm": 58.0,
            "limit_bpm": 107.0,
        },
        "targets": {
            "week": 2,
            "phase": "ramp",
            "aerobic_min_low": 15,
            "aerobic_min_high": 20,
            "max_session_min": 20,
        },
        "status": "on_track",
        "flags": [],
        "analysis_version": "analysis-2.1.0",
        "checkins": [
            {
                "id": 12,
                "day": "2026-05-10",
                "pain_0_10": 3,
                "stretching_sessions": 2,
                "strength_session": False,
                "activities": [],
                "red_flags": [],
                "note": "stiff in the morning",
                "created_at": "2026-05-10T18:02:11Z",
            }
        ],
    },
    {"date": "2026-05-11", "status": "pending", "checkins": []},
    {"date": "2026-05-12", "status": "in_progress", "checkins": []},
]


_RANGE_DOC = """
One item per patient-local date of the range, oldest first; dates after the patient's today are
not listed."""
_ONE_DAY_DOC = """
Any patient-local day up to the patient's today (before monitoring start too); a day after it is
a 404 problem."""
_STATUSES_DOC = """

A date with a stored judgement is its full summary (as in the example), whose `status` is
`in_progress` (today, summarised so far: only the rules that can only grow during a day have
run), `insufficient_data` (too little wear to judge), `pre_operative` (a valid day before
surgery, for the baseline: not judged against the plan), `below`, `on_track` or `above`.
A date without one is `{"date", "status", "checkins"}` with `status`:

- `pending`: from monitoring start, ended, not judged yet (judged within moments);
- `in_progress`: the patient's today, not summarised yet;
- `not_monitored`: before the patient's first day with a device or data (never judged).
"""


# The dates a range may name: no patient was monitored before 1900 (surgery dates start there,
# service.validators), and 2200 is far past any patient's today; outside it date arithmetic
# would overflow.
EARLIEST_DAY = EARLIEST_SURGERY_DATE
LATEST_DAY = date(2200, 12, 31)


def _today(patient: PatientRecord) -> date:
    return local_day(datetime.now(UTC), patient.tz)


def _range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """A validated day range (default: the last 30 local days of the patient)."""
    for name, value in (("from", first), ("to", last)):
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise ValidationFailedError(
                f"{name} must be a date between {EARLIEST_DAY} and {LATEST_DAY} (YYYY-MM-DD)",
                errors=[{"loc": ["query", name], "msg": "out of range"}],
            )
    last = last or today
    first = first or max(EARLIEST_DAY, last - timedelta(days=29))
    if first > last:
        raise ValidationFailedError(
            "from must not be after to", errors=[{"loc": ["query", "from"], "msg": "after to"}]
        )
    if (last - first).days >= MAX_DAYS_PER_REQUEST:
        raise ValidationFailedError(
            f"at most {MAX_DAYS_PER_REQUEST} days per request",
            errors=[{"loc": ["query", "from"], "msg": "range too long"}],
        )
    return first, last


FromQuery = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
ToQuery = Annotated[date | None, Query(description="Last day, YYYY-MM-DD (inclusive).")]


@dataclass(frozen=True, kw_only=True)
class DayRange:
    """A request's validated ``from`` … ``to`` (inclusive; default: the last 30 local days) and
    the patient's today, read once."""

    first: date
    last: date
    today: date


async def _day_range(
    patient: ScopedPatient, from_: FromQuery = None, to: ToQuery = None
) -> DayRange:
    today = _today(patient)
    first, last = _range(from_, to, today)
    return DayRange(first=first, last=last, today=today)


RangeQuery = Annotated[DayRange, Depends(_day_range)]
"""The ``from`` and ``to`` query parameters of the days, sessions, CSV and FHIR routes (and the
page's CSV): declared, bounded and documented once, so their range rules agree."""


@dataclass(frozen=True, kw_only=True)
class ServedRange:
    """The range of a :data:`RangeQuery` up to the patient's today and its served days, one per
    patient-local date, oldest first (JSON text, as ``GET /days`` serves them)."""

    first: date
    last: date
    days: list[bytes]


async def _served_days(
    conn: Conn, patient: PatientRecord, first: date, last: date, today: date
) -> list[bytes]:
    return await served_days(conn, patient_id=patient.id, first=first, last=last, today=today)


async def _served_range(conn: Conn, patient: ScopedPatient, days: RangeQuery) -> ServedRange:
    last = min(days.last, days.today)
    served = (
        await _served_days(conn, patient, days.first, last, days.today)
        if days.first <= last
        else []
    )
    return ServedRange(first=days.first, last=last, days=served)


ServedRangeQuery = Annotated[ServedRange, Depends(_served_range)]
"""A :data:`RangeQuery` read: the days, CSV and FHIR routes serve the same days of a range."""


@router.get(
    "/{patient_id}/days",
    description=_RANGE_DOC + _STATUSES_DOC,
    response_model=list[ServedDay],
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE}}}},
)
async def days(patient_id: UUID, served: ServedRangeQuery) -> Response:
    """Every patient-local day ``from`` … ``to`` (inclusive; default the last 30), with its status."""
    return Response(b"[%s]" % b", ".join(served.days), media_type="application/json")


@router.get(
    "/{patient_id}/days/{day}",
    description=_ONE_DAY_DOC + _STATUSES_DOC,
    response_model=ServedDay,
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE[0]}}}},
)
async def one_day(patient_id: UUID, day: date, patient: ScopedPatient, conn: Conn) -> Response:
    """One patient-local day: its full summary, or its status while it has none."""
    today = _today(patient)
    if day > today:
        raise NotFoundError(
            f"{day} has not started yet in the patient's time zone (today is {today})",
            day=day.isoformat(),
        )
    (served,) = await _served_days(conn, patient, day, day, today)
    return Response(served, media_type="application/json")


@router.get("/{patient_id}/sessions")
async def sessions(
    patient_id: UUID, patient: ScopedPatient, conn: Conn, days: RangeQuery
) -> Response:
    """Walking, biking and running sessions of the days ``from`` … ``to``, each with its day."""
    text = await sessions_json(conn, patient_id=patient.id, first=days.first, last=days.last)
    return Response(text, media_type="application/json")


class WeekOut(BaseModel):
    week: int
    start_date: date
    end_date: date
    days_with_summary: int
    judged_days: int
    median_daily_aerobic_min: float | None
    longest_session_min: int
    days_on_track: int
    adherence_pct: float


@router.get("/{patient_id}/progress")
async def progress(patient_id: UUID, patient: ScopedPatient, conn: Conn) -> list[WeekOut]:
    """Weekly progress since surgery: median daily aerobic minutes, longest session, adherence."""
    summaries = await load_summaries(conn, patient_id=patient.id, first=patient.surgery_date)
    weeks = analysis.weekly_progress(summaries=summaries, surgery_date=patient.surgery_date)
    return [WeekOut(**vars(w)) for w in weeks]
