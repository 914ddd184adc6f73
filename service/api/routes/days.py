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
        "heart_rate": {"min": 52, "avg": 71.4, "max": 118, "resting_bpm": 58.0, "limit_bpm": 107.0},
        "targets": {
            "week": 2,
            "phase": "ramp",
            "aerobic_min_low": 15,
            "aerobic_min_high": 20,
            "max_session_min": 20,
        },
        "status": "on_track",
        "flags": [],
        "analysis_version": "analysis-2.0.0",
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
    },
    {"date": "2026-05-11", "status": "pending", "checkins": []},
    {"date": "2026-05-12", "status": "in_progress", "checkins": []},
]


# Dates of a range without a stored summary (migration 0014, patients.monitoring_from):
_NOT_MONITORED = "not_monitored"  # before the patient's first day with a device or data
_IN_PROGRESS = "in_progress"  # the patient's today, not summarised yet
_PENDING = "pending"  # from monitoring start, ended, not judged yet (the worker is on it)

_RANGE_DOC = """
One item per patient-local date of the range, oldest first; dates after the patient's today are
not listed."""
_ONE_DAY_DOC = """
Any patient-local day up to the patient's today (before monitoring start too); a day after it is
a 404 problem."""
_STATUSES_DOC = """

A date with a stored judgement is its full summary (as in the example), whose `status` is
`in_progress` (today, summarised so far: only the rules that can only grow during a day have
run), `insufficient_data` (too little wear to judge), `below`, `on_track` or `above`.
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


def _range(
    patient: PatientRecord, first: date | None, last: date | None, today: date | None = None
) -> tuple[date, date]:
    """A validated day range (default: the last 30 local days of the patient)."""
    for name, value in (("from", first), ("to", last)):
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise ValidationFailedError(
                f"{name} must be a date between {EARLIEST_DAY} and {LATEST_DAY} (YYYY-MM-DD)",
                errors=[{"loc": ["query", name], "msg": "out of range"}],
            )
    last = last or today or _today(patient)
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


# A day as served: the stored analysis plus the patient's check-ins of that day (pain, exercises
# the band cannot see, self-logged activities, red flags), or for a date without a stored
# summary its status. PostgreSQL returns the summary's stored text rendering (migration 0011) and
# the check-ins as JSON text, both as UTF-8 bytes; the service splices them without decoding or
# re-encoding the JSON.
_CHECKINS_JOIN = sql.SQL(
    "LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object("
    "'id', c.id, 'pain_0_10', c.pain_0_10, 'stretching_sessions', c.stretching_sessions,"
    " 'strength_session', c.strength_session, 'activities', c.activities,"
    " 'red_flags', to_jsonb(c.red_flags), 'note', c.note,"
    " 'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
    " ORDER BY c.id) AS items FROM checkins c WHERE c.patient_id = p.id AND c.day = g.day) ci"
    " ON true"
)
# Every date of the range: its stored summary text, or (without one) its date and status.
# Rendered once: psycopg caches the conversion of a query string, not of a composed query.
_DAYS_SQL = (
    sql.SQL(
        "SELECT d.summary_text, ci.items::text, g.day::text,"
        " CASE WHEN d.summary_text IS NOT NULL THEN NULL"
        " WHEN p.monitoring_from IS NULL OR g.day < p.monitoring_from THEN {not_monitored}"
        " WHEN g.day >= %(today)s THEN {in_progress} ELSE {pending} END"
        " FROM patients p"
        " CROSS JOIN LATERAL (SELECT g::date AS day FROM"
        "  generate_series(%(first)s::date, %(last)s::date, interval '1 day') g) g"
        " LEFT JOIN daily_summaries d ON d.patient_id = p.id AND d.day = g.day {checkins}"
        " WHERE p.id = %(patient)s ORDER BY g.day"
    )
    .format(
        checkins=_CHECKINS_JOIN,
        not_monitored=sql.Literal(_NOT_MONITORED),
        in_progress=sql.Literal(_IN_PROGRESS),
        pending=sql.Literal(_PENDING),
    )
    .as_string()
)


def _served_day(
    summary: bytes | None, checkins: bytes | None, day: bytes, status: bytes | None
) -> bytes:
    """The JSON object text ``summary`` with a ``checkins`` member (``[]`` when there are none);
    without a summary, the date's ``date``, ``status`` and ``checkins``."""
    if summary is None:
        return b'{"date": "%s", "status": "%s", "checkins": %s}' % (
            day,
            status,
            checkins or b"[]",
        )
    separator = b", " if summary != b"{}" else b""
    return b'%s%s"checkins": %s}' % (summary[:-1], separator, checkins or b"[]")


FromQuery = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
ToQuery = Annotated[date | None, Query(description="Last day, YYYY-MM-DD (inclusive).")]


async def _served_days(
    conn: Conn, patient: PatientRecord, first: date, last: date, today: date
) -> list[bytes]:
    cur = await utf8_cursor(conn).execute(
        _DAYS_SQL, {"patient": patient.id, "first": first, "last": last, "today": today}
    )
    return [_served_day(*row) for row in await cur.fetchall()]


@router.get(
    "/{patient_id}/days",
    description=_RANGE_DOC + _STATUSES_DOC,
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE}}}},
)
async def days(
    patient_id: UUID,
    patient: ScopedPatient,
    conn: Conn,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Every patient-local day ``from`` … ``to`` (inclusive; default the last 30), with its status."""
    today = _today(patient)
    first, last = _range(patient, from_, to, today)
    last = min(last, today)
    served = await _served_days(conn, patient, first, last, today) if first <= last else []
    return Response(b"[%s]" % b", ".join(served), media_type="application/json")


@router.get(
    "/{patient_id}/days/{day}",
    description=_ONE_DAY_DOC + _STATUSES_DOC,
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
