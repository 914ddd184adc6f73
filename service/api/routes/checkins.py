"""Patient check-ins: reported by the patient (or the care team on their behalf)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from service.api.deps import AppSettings, Conn, CurrentUser, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.checkins import CheckinIn, CheckinRecord, checkins_for_days, record_checkin
from service.errors import ValidationFailedError
from service.notify import Notifier

router = APIRouter(prefix="/v1/patients", tags=["check-ins"], responses=PROBLEM_RESPONSES)

# A year of days per request, as for daily summaries (tunable default).
MAX_DAYS_PER_REQUEST = 366


class CheckinOut(BaseModel):
    id: int
    day: date
    urgent_notifications: int


@router.post("/{patient_id}/checkins", status_code=201)
async def create_checkin(
    request: Request,
    patient_id: UUID,
    body: CheckinIn,
    patient: ScopedPatient,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
) -> CheckinOut:
    """Report a day's pain, exercises, self-logged activities and red-flag symptoms.

    A red flag raises an urgent alert and notifies the care team before this request answers
    (bounded by ``REHAB_NOTIFY_INLINE_TIMEOUT_S``; delivery continues in the background).
    """
    result = await record_checkin(
        conn,
        patient,
        body,
        by=user.user_id,
        digest_interval_s=settings.notify_digest_interval_s,
    )
    notifier: Notifier | None = getattr(request.app.state, "notifier", None)
    if notifier is not None:
        await notifier.notify_soon(result.urgent_delivery_ids)
    return CheckinOut(
        id=result.checkin_id, day=result.day, urgent_notifications=len(result.urgent_delivery_ids)
    )


@router.get("/{patient_id}/checkins")
async def list_checkins(
    patient_id: UUID,
    patient: ScopedPatient,
    conn: Conn,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> list[CheckinRecord]:
    """Check-ins of patient-local days ``from`` … ``to`` (inclusive; default the last 30)."""
    last = to or datetime.now(UTC).astimezone(patient.zone).date()
    # Tunable default: the same 30-day window as the daily summaries.
    first = from_ or last - timedelta(days=29)
    if first > last or (last - first).days >= MAX_DAYS_PER_REQUEST:
        raise ValidationFailedError(
            f"from must not be after to, and at most {MAX_DAYS_PER_REQUEST} days per request",
            errors=[{"loc": ["query", "from"], "msg": "bad range"}],
        )
    by_day = await checkins_for_days(conn, patient_id=patient.id, first=first, last=last)
    return [c for day in sorted(by_day) for c in by_day[day]]
