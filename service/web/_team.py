"""The care team's list: every patient of the caller's teams, most in need first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from service.api.deps import Conn
from service.patients import list_patients
from service.web._charts import sparkline
from service.web._data import SPARK_DAYS, PatientRow, team_rows
from service.web._guard import to_login, web_errors
from service.web._html import Html, el
from service.web._layout import html_response, page
from service.web._session import principal_or_none

__all__ = ["ago", "router"]

router = APIRouter(include_in_schema=False)

_TIER_LABEL = {
    "urgent": "Urgent alert",
    "warning": "Open warning",
    "below": "Below target",
    "no_data": "Not judged yet",
    "on_track": "On track",
}


def ago(at: datetime | None, now: datetime) -> str:
    """``at`` as a plain-language age ("5 min ago", "3 h ago", "2 days ago")."""
    if at is None:
        return "never"
    seconds = max(int((now - at).total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} days ago"


def _today_cell(row: PatientRow) -> Html:
    point = row.today_point or (row.days[-1] if row.days else None)
    targets = point.targets if point else {}
    low, high = targets.get("aerobic_min_low"), targets.get("aerobic_min_high")
    goal = f"{low:g}–{high:g} min" if low is not None and high is not None else "no plan yet"
    if row.today_point is None:
        return el(
            "td",
            el("span", "no summary today", class_="muted"),
            el("br"),
            el("small", f"target {goal}"),
        )
    minutes = row.today_point.aerobic_min
    return el(
        "td",
        el("strong", f"{minutes} min"),
        f" of {goal}",
        el("br"),
        el(
            "meter",
            value=minutes,
            min=0,
            max=max(float(high or 0), minutes, 1),
            low=low,
            high=high,
            optimum=high,
            aria_label=f"{minutes} of {goal}",
        )
        if low is not None
        else None,
    )


def _alerts_cell(row: PatientRow) -> Html:
    parts = [
        el("span", f"{row.open_alerts[s]} {s}", class_=f"badge {s}")
        for s in ("urgent", "warning", "info")
        if row.open_alerts.get(s)
    ]
    if row.acknowledged_alerts:
        parts.append(el("small", f"{row.acknowledged_alerts} acknowledged", class_="muted"))
    return el("td", parts or el("span", "none", class_="muted"))


def _row(row: PatientRow, now: datetime) -> Html:
    p = row.patient
    values = {d.day: d.aerobic_min for d in row.days}
    spark = [values.get(row.today - timedelta(days=i)) for i in range(SPARK_DAYS - 1, -1, -1)]
    latest = row.days[-1].targets if row.days else {}
    silent = row.silent(now)
    return el(
        "tr",
        el("th", el("a", p.display_name, href=f"/patients/{p.id}"), scope="row"),
        el("td", el("span", _TIER_LABEL[row.tier], class_=f"badge {row.tier}")),
        el(
            "td",
            str(row.days_since_surgery),
            el("small", f" (week {row.days_since_surgery // 7 + 1})"),
        ),
        _today_cell(row),
        el("td", sparkline(spark, target_min=latest.get("aerobic_min_low"))),
        _alerts_cell(row),
        el(
            "td",
            el("span", "Silent: ", class_="badge silent") if silent else None,
            el(
                "time",
                ago(row.last_data_at, now),
                datetime=row.last_data_at.isoformat() if row.last_data_at else None,
            ),
            class_="silent-cell" if silent else None,
        ),
        class_=f"tier-{row.tier}",
        data_patient=str(p.id),
    )


def team_table(rows: list[PatientRow], now: datetime) -> Html:
    """The list, or its empty state."""
    if not rows:
        return el("p", "No patients in your care teams yet.", class_="empty")
    head = (
        "Patient",
        "Need",
        "Days since surgery",
        "Today's aerobic minutes",
        f"Last {SPARK_DAYS} days",
        "Open alerts",
        "Last data",
    )
    return el(
        "div",
        el(
            "table",
            el("caption", "Patients, most in need first"),
            el("thead", el("tr", [el("th", h, scope="col") for h in head])),
            el("tbody", [_row(r, now) for r in rows]),
            class_="patients",
        ),
        class_="table-wrap",
    )


@router.get("/team")
@web_errors
async def team(request: Request, conn: Conn) -> Response:
    """The care team's patients, sorted by need; polls for changes."""
    user = await principal_or_none(conn, request)
    if user is None:
        return to_login(request)
    if user.role == "patient":
        return RedirectResponse("/me", status_code=303)
    now = datetime.now(UTC)
    patients = await list_patients(conn, team_ids=None if user.role == "admin" else user.team_ids)
    rows = await team_rows(conn, patients, now=now)
    urgent = sum(1 for r in rows if r.tier == "urgent")
    body = el(
        "section",
        el("h1", "Patients"),
        el(
            "div",
            el(
                "p",
                f"{len(rows)} patients; {urgent} with an urgent alert.",
                class_="summary-line",
                aria_live="polite",
            ),
            team_table(rows, now),
            data_live="team-list",
        ),
    )
    return html_response(request, page(request, title="Patients", body=body, user=user, live=True))
