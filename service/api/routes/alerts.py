"""Alerts of the caller's patients: list with filters, acknowledge, resolve; the delivery log.

Alert states: ``open`` (nobody acknowledged it yet), ``acknowledged``, ``cleared`` (the condition
cleared before anyone acknowledged it: "cleared, not reviewed", still in the queue; acknowledging
it resolves it) and ``resolved``. ``overdue``: urgent, not acknowledged within
``REHAB_ALERT_ACK_TIMEOUT_S``; the team was notified once more.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from service.accounts import Principal
from service.alerts import (
    AlertFilter,
    AlertRecord,
    AlertState,
    acknowledge,
    get_alert,
    list_alerts,
    resolve,
)
from service.api.deps import Conn, CurrentUser, Page, paged
from service.api.problems import PROBLEM_RESPONSES
from service.audit import record_access
from service.errors import NotFoundError
from service.notify import DeliveryRecord, list_deliveries

router = APIRouter(prefix="/v1", tags=["alerts"], responses=PROBLEM_RESPONSES)


class NoteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "called the patient; resting"}]}
    )

    # Tunable default: an acknowledgement note is a few sentences.
    note: str = Field(default="", max_length=2000)


class AlertOut(BaseModel):
    """One alert episode of a patient, from its first to its last day with the condition."""

    id: int
    patient_id: UUID
    team_id: UUID
    rule: str = Field(
        description="the analysis flag code, RED_FLAG_SYMPTOM, "
        "ACTIVITY_BEFORE_CLEARANCE or NO_DATA_SINCE_ENROLMENT"
    )
    source: Literal["analysis", "checkin", "monitoring"]
    severity: Literal["info", "warning", "urgent"]
    state: AlertState = Field(
        description="open: not acknowledged yet; acknowledged: a person saw it; cleared: the "
        "condition cleared (after complete judged days without it) before anyone acknowledged "
        "it, shown as 'cleared, not reviewed' and kept in the queue until acknowledged, which "
        "resolves it; resolved."
    )
    first_day: date
    last_day: date
    message: str
    notify: Literal["now", "digest", "suppressed", "budget", "none"] = Field(
        description="how the team was told: now (urgent), digest, or held back by the "
        "suppression window, the weekly budget, or not at all (info)."
    )
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None
    ack_note: str | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolve_note: str | None
    cleared_on: date | None = Field(
        description="the patient-local day on which the condition counted as cleared."
    )
    overdue: bool = Field(
        description="urgent and not acknowledged within the acknowledgement timeout "
        "(REHAB_ALERT_ACK_TIMEOUT_S, default 4 h); the team was notified once more."
    )

    @classmethod
    def of(cls, alert: AlertRecord) -> AlertOut:
        return cls.model_validate(alert, from_attributes=True)


def _visible_teams(user: Principal) -> tuple[UUID, ...] | None:
    return None if user.role == "admin" else user.team_ids


async def _visible_alert(conn: Conn, user: Principal, alert_id: int, action: str) -> AlertRecord:
    alert = await get_alert(conn, alert_id)
    teams = _visible_teams(user)
    allowed = teams is None or alert.team_id in teams
    await record_access(
        conn, principal=user, action=action, patient_id=alert.patient_id, allowed=allowed
    )
    if not allowed:
        raise NotFoundError(f"no alert {alert_id}")
    return alert


@router.get("/alerts")
async def alerts(
    request: Request,
    response: Response,
    conn: Conn,
    user: CurrentUser,
    page: Page,
    team_id: UUID | None = None,
    patient_id: UUID | None = None,
    state: Annotated[
        AlertState | None,
        Query(
            description="open: not acknowledged yet; acknowledged; cleared: the condition "
            "cleared before anyone acknowledged it (cleared, not reviewed); resolved."
        ),
    ] = None,
    severity: Annotated[Literal["info", "warning", "urgent"] | None, Query()] = None,
    overdue: Annotated[
        bool | None,
        Query(description="urgent alerts not acknowledged within the acknowledgement timeout."),
    ] = None,
) -> list[AlertOut]:
    """Alerts of the caller's patients (a patient: their own), newest first, filtered and paged."""
    teams = _visible_teams(user)
    if user.role == "patient":
        patient_id = user.patient_id
        teams = None
    await record_access(
        conn, principal=user, action="GET /v1/alerts", patient_id=patient_id, allowed=True
    )
    rows = await list_alerts(
        conn,
        AlertFilter(
            team_ids=teams,
            team_id=team_id,
            patient_id=patient_id,
            state=state,
            severity=severity,
            overdue=overdue,
            before_id=page.cursor,
            limit=page.fetch,
        ),
    )
    return [AlertOut.of(r) for r in paged(request, response, page, rows, cursor_of=lambda r: r.id)]


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(
    alert_id: int, conn: Conn, user: CurrentUser, body: Annotated[NoteIn, Body()]
) -> AlertOut:
    """Acknowledge an open alert, or review a cleared one (which resolves it); 409 otherwise."""
    await _visible_alert(conn, user, alert_id, "POST /v1/alerts/{alert_id}/acknowledge")
    return AlertOut.of(await acknowledge(conn, alert_id, by=user.user_id, note=body.note))


@router.post("/alerts/{alert_id}/resolve")
async def resolve_alert(
    alert_id: int, conn: Conn, user: CurrentUser, body: Annotated[NoteIn, Body()]
) -> AlertOut:
    """Resolve an alert by hand (records who and the note)."""
    await _visible_alert(conn, user, alert_id, "POST /v1/alerts/{alert_id}/resolve")
    return AlertOut.of(await resolve(conn, alert_id, by=user.user_id, note=body.note))


@router.get("/notification-deliveries")
async def deliveries(
    request: Request, response: Response, conn: Conn, user: CurrentUser, page: Page
) -> list[DeliveryRecord]:
    """The delivery log of the caller's teams' notifications, newest first (paged)."""
    rows = await list_deliveries(
        conn, team_ids=_visible_teams(user), before_id=page.cursor, limit=page.fetch
    )
    return paged(request, response, page, rows, cursor_of=lambda r: r.id)
