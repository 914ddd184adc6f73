"""Daily summaries, sessions and weekly progress of a patient."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.responses import Response

from service.api.deps import Conn, CurrentUser
from service.api.problems import PROBLEM_RESPONSES
from service.errors import ValidationFailedError
from service.patients import patient_for
from service.worker.days import local_day

router = APIRouter(prefix="/v1/patients", tags=["days"], responses=PROBLEM_RESPONSES)

# A year of days per request keeps responses bounded (a full summary is a few kB).
MAX_DAYS_PER_REQUEST = 366


_DAYS_EXAMPLE = [
    {
        "date": "2026-05-10",
        "steps": 3120,
        "wear_minutes": 1310,
        "active_minutes": 18,
        "heart_rate": {"min": 52, "avg": 71.4, "max": 118},
    }
]


@router.get(
    "/{patient_id}/days",
    responses={200: {"content": {"application/json": {"example": _DAYS_EXAMPLE}}}},
)
async def days(
    patient_id: UUID,
    conn: Conn,
    user: CurrentUser,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> Response:
    """Daily summaries of patient-local days ``from`` … ``to`` (inclusive; default the last 30)."""
    patient = await patient_for(conn, user, patient_id)
    last = to or local_day(datetime.now(UTC), patient.tz)
    first = from_ or last - timedelta(days=29)
    if first > last:
        raise ValidationFailedError(
            "from must not be after to", errors=[{"loc": ["query", "from"], "msg": "after to"}]
        )
    if (last - first).days >= MAX_DAYS_PER_REQUEST:
        raise ValidationFailedError(
            f"at most {MAX_DAYS_PER_REQUEST} days per request",
            errors=[{"loc": ["query", "from"], "msg": "range too long"}],
        )
    # The summaries are stored as JSON; PostgreSQL assembles the array so that the service does
    # not decode and re-encode them.
    cur = await conn.execute(
        "SELECT coalesce(json_agg(summary ORDER BY day), '[]')::text FROM daily_summaries"
        " WHERE patient_id = %s AND day BETWEEN %s AND %s",
        (patient.id, first, last),
    )
    row = await cur.fetchone()
    return Response(row[0] if row else "[]", media_type="application/json")
