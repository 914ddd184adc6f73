"""The care team's patient page: charts, a day's sessions, flags, check-ins, alerts, plan editor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from psycopg import AsyncConnection
from starlette.responses import Response

import analysis
from service.accounts import Principal
from service.alerts import AlertFilter, list_alerts
from service.api.deps import Conn, PageUser, ScopedPatient
from service.checkins import checkins_for_days
from service.patients import PatientRecord, list_plan_overrides
from service.summaries import stored_summaries
from service.trajectory import trajectory_of
from service.web._charts import hr_chart, progression_chart, steps_chart
from service.web._data import device_status, hr_minutes, local_today
from service.web._exports import export_links
from service.web._guard import web_errors
from service.web._html import Html, el, void
from service.web._import_upload import upload_form
from service.web._layout import html_response, page
from service.web._patient_editor import editor_section
from service.web._patient_parts import (
    alerts_section,
    checkins_section,
    flags_section,
    hub_line,
    weekly_table,
)
from service.web._session import csrf_token
from service.web._timeline import session_timeline
from service.web._trajectory import trajectory_section
from service.web._triage import record_label

__all__ = ["render_patient_page", "router"]

router = APIRouter(include_in_schema=False)

# Tunable defaults: the charts' ranges (the whole recovery by default); check-ins and flags the
# last 30 and 14 days; the alert list the 50 newest episodes.
RANGES: dict[str, tuple[str, int | None]] = {
    "all": ("whole recovery", None),
    "4w": ("last 4 weeks", 28),
    "12w": ("last 12 weeks", 84),
    "26w": ("last 26 weeks", 182),
}
_CHECKIN_DAYS = 30
_FLAG_DAYS = 14
_ALERTS = 50

_NOTICES = {
    "acknowledged": "Alert acknowledged.",
    "resolved": "Alert resolved.",
    "override": "Plan override added; the days from then on are being recomputed.",
    "settings": "Settings saved.",
    "imported": "Files imported; the days they cover are being analysed.",
    "no-files": "No file was chosen to import.",
}


def _section(title: str, body: Html, *, section_id: str, live: str | None = None) -> Html:
    return el(
        "section",
        el("h2", title, id=f"{section_id}-title"),
        body,
        id=section_id,
        class_="card",
        aria_labelledby=f"{section_id}-title",
        data_live=live,
    )


def _day_picker(days: list[analysis.DaySummary], chosen: date | None, patient_id: str) -> Html:
    options = [
        el(
            "option",
            f"{d.date} ({len(d.sessions)} sessions)",
            value=d.date.isoformat(),
            selected=d.date == chosen,
        )
        for d in reversed(days)
    ]
    return el(
        "form",
        el("label", "Day", for_="day"),
        el("select", options, id="day", name="day"),
        el("button", "Show", type="submit"),
        method="get",
        action=f"/patients/{patient_id}#sessions",
        class_="inline-form",
    )


async def render_patient_page(
    request: Request,
    conn: AsyncConnection[Any],
    user: Principal,
    patient: PatientRecord,
    *,
    chosen_day: date | None,
    notice: str = "",
    error: str = "",
    status: int = 200,
    chart_range: str = "all",
) -> Response:
    """The whole page for ``patient`` (also re-rendered with ``error`` after a rejected form)."""
    now = datetime.now(UTC)
    today = local_today(patient, now)
    chart_range = chart_range if chart_range in RANGES else "all"
    all_days = (
        await stored_summaries(
            conn, patient_ids=[patient.id], first=patient.surgery_date, last=today
        )
    )[patient.id]
    span = RANGES[chart_range][1]
    days = [d for d in all_days if span is None or d.date > today - timedelta(days=span)]
    devices = (await device_status(conn, [patient.id])).get(patient.id)
    alerts = await list_alerts(
        conn, AlertFilter(team_ids=None, patient_id=patient.id, limit=_ALERTS)
    )
    alerts.sort(key=lambda a: (a.state == "resolved", a.severity != "urgent", -a.id))
    checkins = await checkins_for_days(
        conn, patient_id=patient.id, first=today - timedelta(days=_CHECKIN_DAYS - 1), last=today
    )
    overrides = await list_plan_overrides(conn, patient_id=patient.id)
    trajectory = await trajectory_of(conn, patient)
    by_day = {d.date: d for d in all_days}
    # Default: the latest day with sessions (today is often still empty), else the latest day.
    with_sessions = [d for d in all_days if d.sessions]
    latest = with_sessions[-1] if with_sessions else (days[-1] if days else None)
    point = by_day.get(chosen_day) if chosen_day else latest
    if point is not None:
        start = datetime.fromtimestamp(point.day_start_s, UTC)
        hr = await hr_minutes(
            conn,
            patient_id=patient.id,
            start=start,
            end=start + timedelta(minutes=point.n_minutes),
        )
        timeline = session_timeline(point, hr=hr, zone=patient.zone)
    else:
        timeline = el("p", "No analysed day to show yet.", class_="empty")
    pid = str(patient.id)
    csrf = csrf_token(request)
    since = (today - patient.surgery_date).days
    open_count = sum(1 for a in alerts if a.state != "resolved")
    header = el(
        "header",
        el(
            "h1",
            patient.display_name,
            el("span", f" {record_label(patient.record_number)}", class_="mrn")
            if patient.record_number
            else None,
        ),
        el(
            "p",
            f"{patient.surgery_type.replace('_', ' ')} ({patient.approach.replace('_', ' ')}) on {patient.surgery_date}"
            f" · day {since}, week {since // 7 + 1} · {patient.tz}"
            f" · {open_count} open alert(s)",
            class_="muted",
        ),
        hub_line(devices, now),
        export_links(pid),
        class_="page-head",
    )
    banners = [
        el("p", _NOTICES[notice], class_="banner ok", role="status")
        if notice in _NOTICES
        else None,
        el("p", error, class_="banner error", role="alert") if error else None,
    ]
    body = [
        header,
        banners,
        _section(
            "Alerts",
            alerts_section(alerts, patient_id=pid, csrf=csrf),
            section_id="alerts",
            live="alerts",
        ),
        _section(
            "Progression",
            Html(
                _range_picker(chart_range, pid)
                + progression_chart(days, surgery_date=patient.surgery_date)
            ),
            section_id="progress",
            live="progress",
        ),
        _section(
            "Recovery against the expected band",
            trajectory_section(trajectory),
            section_id="trajectory",
        ),
        _section(
            "Weekly progress",
            weekly_table(all_days, surgery_date=patient.surgery_date),
            section_id="weekly",
            live="weekly",
        ),
        _section(
            "Sessions of a day",
            Html(_day_picker(all_days, point.date if point else None, pid) + timeline),
            section_id="sessions",
        ),
        _section(
            "Flags, last 14 days",
            flags_section([d for d in days if d.date > today - timedelta(days=_FLAG_DAYS)]),
            section_id="flags",
            live="flags",
        ),
        _section("Check-ins", checkins_section(checkins), section_id="checkins", live="checkins"),
        _section(
            "Daily steps",
            steps_chart(days, surgery_date=patient.surgery_date),
            section_id="steps",
            live="steps",
        ),
        _section(
            "Heart rate",
            hr_chart(days, surgery_date=patient.surgery_date),
            section_id="heart",
            live="heart",
        ),
        _section(
            "Plan, clearances and heart-rate settings",
            editor_section(patient, overrides, today=today, csrf=csrf),
            section_id="plan",
        ),
        _section(
            "Import files",
            upload_form(f"/patients/{pid}/import", csrf),
            section_id="import",
        ),
        void("input", type="hidden", id="patient-id", value=pid),
    ]
    document = page(request, title=patient.display_name, body=body, user=user, live=True)
    return html_response(request, document, status=status)


def _range_picker(chosen: str, patient_id: str) -> Html:
    return el(
        "form",
        el("label", "Show", for_="range"),
        el(
            "select",
            [
                el("option", label, value=key, selected=key == chosen)
                for key, (label, _) in RANGES.items()
            ],
            id="range",
            name="range",
        ),
        el("button", "Update chart", type="submit"),
        method="get",
        action=f"/patients/{patient_id}#progress",
        class_="inline-form",
    )


@router.get("/patients/{pid}")
@web_errors
async def patient_page(
    request: Request,
    conn: Conn,
    user: PageUser,
    patient: ScopedPatient,
    day: date | None = None,
    notice: str = "",
    range: str = "all",
) -> Response:
    """One patient for the care team; another team's patient is not found (404)."""
    return await render_patient_page(
        request, conn, user, patient, chosen_day=day, notice=notice, chart_range=range
    )
