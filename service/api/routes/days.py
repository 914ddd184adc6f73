"""Daily summaries, sessions and weekly progress of a patient (all patient-local days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from psycopg import sql
from pydantic import BaseModel
from starlette.responses import Response

import analysis
from service.api.deps import Conn, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.db.text import utf8_cursor
from service.errors import NotFoundError, ValidationFailedError
from service.patients import PatientRecord
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
        "heart_rate": {"min": 52, "avg": 71.4, "max": 118, "resting_bpm": 58.0, "limit_bpm": 107.0},
        "targets": {
            "week": 2,
            "aerobic_min_low": 15,
            "aerobic_min_high": 20,
            "max_session_min": 20,
        },
        "status": "on_track",
        "flags": [],
        "analysis_version": "analysis-1.0.0",
        "checkins": [
            {
                "id": 12,
                "pain_0_10": 3,
                "stretching_sessions": 2,
                "strength_session": False,
                "activities": [],
                "red_flags": [],
                "note": "stiff in the morning",
                "created_at": "2026-05-10T18:02:11Z",
            }
        ],
    }
]


def _range(patient: PatientRecord, first: date | None, last: date | None) -> tuple[date, date]:
    """A validated day range (default: the last 30 local days of the patient)."""
    last = last or local_day(datetime.now(UTC), patient.tz)
    first = first or last - timedelta(days=29)
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


# A day's summary as served: the stored analysis plus the patient's check-ins of that day
# (pain, exercises the band cannot see, self-logged activities, red flags). PostgreSQL returns the
# summary's stored text rendering (migration 0011) and the check-ins as JSON text, both as UTF-8
# bytes; the service splices them without decoding or re-encoding the JSON.
_CHECKINS_JOIN = sql.SQL(
    "LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object("
    "'id', c.id, 'pain_0_10', c.pain_0_10, 'stretching_sessions', c.stretching_sessions,"
    " 'strength_session', c.strength_session, 'activities', c.activities,"
    " 'red_flags', to_jsonb(c.red_flags), 'note', c.note,"
    " 'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    " ORDER BY c.id) AS items FROM checkins c WHERE c.patient_id = d.patient_id AND c.day = d.day) ci"
    " ON true"
)
# Rendered once: psycopg caches the conversion of a query string, not of a composed query.
_DAYS_SQL = (
    sql.SQL(
        "SELECT d.summary_text, ci.items::text FROM daily_summaries d {}"
        " WHERE d.patient_id = %s AND d.day BETWEEN %s AND %s ORDER BY d.day"
    )
    .format(_CHECKINS_JOIN)
    .as_string()
)
_ONE_DAY_SQL = (
    sql.SQL(
        "SELECT d.summary_text, ci.items::text FROM daily_summaries d {}"
        " WHERE d.patient_id = %s AND d.day = %s"
    )
    .format(_CHECKINS_JOIN)
    .as_string()
)


def _served_day(summary: bytes, checkins: bytes | None) -> bytes:
    """The JSON object text ``summary`` with a ``checkins`` member (``[]`` when there are none)."""
    separator = b", " if summary != b"{}" else b""
    return b'%s%s"checkins": %s}' % (summary[:-1], separator, checkins or b"[]")


FromQuery = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
ToQuery = Annotated[date | None, Query(description="Last day, YYYY-MM-DD (inclusive).")]


@router.get(
    "/{patient_id}/days",
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE}}}},
)
async def days(
    patient_id: UUID,
    patient: ScopedPatient,
    conn: Conn,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Daily summaries of patient-local days ``from`` … ``to`` (inclusive; default the last 30)."""
    first, last = _range(patient, from_, to)
    cur = await utf8_cursor(conn).execute(_DAYS_SQL, (patient.id, first, last))
    served = b", ".join(
        [_served_day(summary, checkins) for summary, checkins in await cur.fetchall()]
    )
    return Response(b"[%s]" % served, media_type="application/json")


@router.get(
    "/{patient_id}/days/{day}",
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE[0]}}}},
)
async def one_day(patient_id: UUID, day: date, patient: ScopedPatient, conn: Conn) -> Response:
    """The full summary of one patient-local day (404 until the day has been analysed)."""
    cur = await utf8_cursor(conn).execute(_ONE_DAY_SQL, (patient.id, day))
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"no summary for {day} yet", day=day.isoformat())
    return Response(_served_day(*row), media_type="application/json")


@router.get("/{patient_id}/sessions")
async def sessions(
    patient_id: UUID,
    patient: ScopedPatient,
    conn: Conn,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Walking, biking and running sessions of the days ``from`` … ``to``, each with its day."""
    first, last = _range(patient, from_, to)
    cur = await conn.execute(
        "SELECT coalesce(json_agg(s.session || jsonb_build_object('date', d.day)"
        " ORDER BY d.day, s.n), '[]')::text"
        " FROM daily_summaries d,"
        " jsonb_array_elements(d.summary->'sessions') WITH ORDINALITY AS s(session, n)"
        " WHERE d.patient_id = %s AND d.day BETWEEN %s AND %s",
        (patient.id, first, last),
    )
    row = await cur.fetchone()
    return Response(row[0] if row else "[]", media_type="application/json")


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
    cur = await conn.execute(
        "SELECT summary FROM daily_summaries WHERE patient_id = %s AND day >= %s"
        " AND analysis_version = %s ORDER BY day",
        (patient.id, patient.surgery_date, analysis.ANALYSIS_VERSION),
    )
    summaries = [analysis.summary_from_dict(row[0]) for row in await cur.fetchall()]
    weeks = analysis.weekly_progress(summaries=summaries, surgery_date=patient.surgery_date)
    return [WeekOut(**vars(w)) for w in weeks]
