"""``GET /v1/admin/worker/failed-days``: the patient-days the analysis worker set aside."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.deps import Conn
from service.api.problems import PROBLEM_RESPONSES
from service.worker import list_failed_days, queue_health

router = APIRouter(prefix="/v1/admin/worker", tags=["admin"], responses=PROBLEM_RESPONSES)


class FailedDayOut(BaseModel):
    patient_id: UUID
    date: dt.date
    attempts: int
    error_class: str | None = Field(description="the exception's class name; never its message")
    failed_at: dt.datetime | None = Field(description="set aside then; null: waiting for a retry")
    next_attempt_at: dt.datetime | None


class FailedDaysOut(BaseModel):
    queued: int = Field(description="days waiting to be computed")
    retrying: int = Field(description="days that failed and wait for their next attempt")
    failed: int = Field(description="days set aside after their last attempt")
    days: list[FailedDayOut]


@router.get("/failed-days")
async def failed_days(
    conn: Conn,
    patient_id: Annotated[UUID | None, Query(description="only this patient's days")] = None,
    retrying: Annotated[bool, Query(description="also the days waiting for a retry")] = True,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many days")] = 100,
) -> FailedDaysOut:
    """Days whose analysis failed: set aside (and waiting for a retry), oldest patient-day first.

    `rehab analyze --patient ID --from D --to D` recomputes a day and arms it again.
    """
    rows = await list_failed_days(
        conn, patient_id=patient_id, include_retrying=retrying, limit=limit
    )
    health = await queue_health(conn, patient_id=patient_id)
    return FailedDaysOut(
        queued=health.queued,
        retrying=health.retrying,
        failed=health.failed,
        days=[
            FailedDayOut(
                patient_id=r.patient_id,
                date=r.day,
                attempts=r.attempts,
                error_class=r.error_class,
                failed_at=r.failed_at,
                next_attempt_at=r.next_attempt_at,
            )
            for r in rows
        ],
    )
