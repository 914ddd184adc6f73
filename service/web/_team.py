"""The care team's list: every patient of the caller's teams, most in need first, with the reasons."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

import analysis
from service.accounts import Principal
from service.api.deps import AppSettings, Conn, PageUser
from service.patients import PatientRecord, list_patients
from service.trajectory import team_trajectories
from service.web._charts import sparkline
from service.web._guard import web_errors
from service.web._html import Html, el, void
from service.web._layout import html_response, page
from service.web._trajectory import recovery_cell
from service.web._triage import (
    SILENT_AFTER,
    SORTS,
    SPARK_DAYS,
    TIER_LABEL,
    TIERS,
    ListQuery,
    PatientRow,
    record_label,
    select_rows,
    team_rows,
)

__all__ = ["ago", "router"]

router = APIRouter(include_in_schema=False)


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
    low = point.aerobic_min_low if point else None
    high = point.aerobic_min_high if point else None
    goal = f"{low:g}–{high:g} min" if low is not None and high is not None else "no plan yet"
    if row.today_point is None:
        return el(
            "td",
            el("span", "in progress, no data yet", class_="muted"),
            el("br"),
            el("small", f"target {goal}"),
        )
    minutes = row.today_point.aerobic_minutes
    return el(
        "td",
        el("strong", f"{minutes} min"),
        f" of {goal}",
        el("br"),
        el("small", "in progress", class_="muted") if not row.today_point.judged else None,
        el(
            "meter",
            value=minutes,
            min=0,
            max=max(float(high or 0), minutes, 1),
            low=low,
            high=high,
            optimum=low,
            aria_label=f"{minutes} of {goal}",
        )
        if low is not None
        else None,
    )


def _alerts_cell(row: PatientRow) -> Html:
    parts: list[Html] = []
    if row.overdue:
        parts.append(el("span", f"{row.overdue} overdue", class_="badge urgent overdue"))
    parts += [
        el("span", f"{n} {s}", class_=f"badge {s}")
        for s in ("urgent", "warning", "info")
        if (n := row.count(severity=s))
    ]
    cleared = sum(1 for a in row.alerts if a.state == "cleared")
    if cleared:
        parts.append(el("span", f"{cleared} cleared, not reviewed", class_="badge review"))
    acked = sum(1 for a in row.alerts if a.state == "acknowledged")
    if acked:
        parts.append(el("small", f"{acked} acknowledged", class_="muted"))
    return el("td", parts or el("span", "none", class_="muted"))


def _need_cell(row: PatientRow) -> Html:
    reasons = row.reasons()
    return el(
        "td",
        el("span", TIER_LABEL[row.tier], class_=f"badge {row.tier}"),
        el("ul", [el("li", r.text, class_=f"reason {r.level}") for r in reasons], class_="reasons")
        if reasons
        else None,
    )


def _data_cell(row: PatientRow, now: datetime) -> Html:
    device = row.device
    sample = row.last_data_at
    silent = sample is None or now - sample > SILENT_AFTER
    contact = device.last_contact_at if device else None
    battery = device.battery_pct if device else None
    return el(
        "td",
        el("span", "Silent: ", class_="badge silent") if silent else None,
        el("time", ago(sample, now), datetime=sample.isoformat() if sample else None),
        el("br"),
        el(
            "small",
            "no hub set up"
            if device is None
            else f"hub: contact {ago(contact, now)}"
            + (f", battery {battery} %" if battery is not None else ""),
            class_="muted hub",
        ),
        class_="silent-cell" if silent else None,
    )


def _name_cell(row: PatientRow, namesakes: set[str]) -> Html:
    p = row.patient
    mrn = p.record_number
    extra = None
    if mrn:
        extra = el("span", record_label(mrn), class_="mrn")
    elif p.display_name.lower() in namesakes:
        extra = el("span", f"born {p.birth_year}, id {str(p.id)[:8]}", class_="mrn")
    return el(
        "th",
        el("a", p.display_name, href=f"/patients/{p.id}"),
        el("br") if extra else None,
        extra,
        scope="row",
    )


# The sparkline of a row is the same from refresh to refresh until its days change (and it is
# about half of a row's markup work): drawn once per distinct (days, target). Tunable default:
# the rows of a few thousand patients.
@functools.lru_cache(maxsize=4096)
def _sparkline(values: tuple[int | None, ...], target_min: float | None) -> Html:
    return sparkline(values, target_min=target_min)


def _row(
    row: PatientRow,
    now: datetime,
    namesakes: set[str],
    show_team: bool,
    recovery: Mapping[UUID, analysis.Trajectory] | None = None,
) -> Html:
    p = row.patient
    values = {d.date: d.aerobic_minutes for d in row.days}
    spark = [values.get(row.today - timedelta(days=i)) for i in range(SPARK_DAYS - 1, -1, -1)]
    target_min = row.days[-1].aerobic_min_low if row.days else None
    return el(
        "tr",
        _name_cell(row, namesakes),
        el("td", row.team_name) if show_team else None,
        _need_cell(row),
        el(
            "td",
            str(row.days_since_surgery),
            el("small", f" (week {row.days_since_surgery // 7 + 1})"),
        ),
        _today_cell(row),
        el("td", _sparkline(tuple(spark), target_min)),
        recovery_cell((recovery or {}).get(p.id)),
        _alerts_cell(row),
        _data_cell(row, now),
        class_=f"tier-{row.tier}",
        data_patient=str(p.id),
    )


_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Patient", "name"),
    ("Team", "team"),
    ("Need", "need"),
    ("Days since surgery", "surgery"),
    ("Today's aerobic minutes", "today"),
    (f"Last {SPARK_DAYS} days", None),
    ("Recovery vs expected", None),
    ("Alerts", "alerts"),
    ("Last data", "last_data"),
)


def _link(query: ListQuery, **changes: object) -> str:
    values: dict[str, object] = {
        "q": query.q,
        "status": query.status,
        "team": query.team,
        "sort": query.sort,
        "dir": "desc" if query.desc else "asc",
        "page": query.page,
    }
    values.update(changes)
    kept = {k: v for k, v in values.items() if v not in ("", None, "need", "asc", 1)}
    return "/team" + (f"?{urlencode(kept)}" if kept else "")


def _header(label: str, key: str | None, query: ListQuery) -> Html:
    if key is None:
        return el("th", label, scope="col")
    current = query.sort == key
    desc = current and not query.desc
    sort = "descending" if query.desc else "ascending"
    return el(
        "th",
        el(
            "a",
            label,
            el("span", " ▼" if query.desc else " ▲", aria_hidden="true") if current else None,
            href=_link(query, sort=key, dir="desc" if desc else "asc", page=1),
        ),
        scope="col",
        aria_sort=sort if current else None,
    )


def team_table(
    rows: list[PatientRow],
    now: datetime,
    *,
    query: ListQuery | None = None,
    show_team: bool = False,
    namesakes: set[str] | None = None,
    recovery: Mapping[UUID, analysis.Trajectory] | None = None,
) -> Html:
    """The list, or its empty state (``recovery``: the shown patients' trajectories)."""
    query = query or ListQuery()
    if not rows:
        return el("p", "No patients match.", class_="empty")
    head = [_header(label, key, query) for label, key in _COLUMNS if show_team or key != "team"]
    return el(
        "div",
        el(
            "table",
            el("caption", "Patients, most in need first" if query.sort == "need" else "Patients"),
            el("thead", el("tr", head)),
            el(
                "tbody",
                [_row(r, now, namesakes or set(), show_team, recovery) for r in rows],
            ),
            class_="patients",
        ),
        class_="table-wrap",
    )


def _controls(query: ListQuery, teams: list[tuple[str, str]]) -> Html:
    statuses = [el("option", "any need", value="")] + [
        el("option", TIER_LABEL[t], value=t, selected=query.status == t) for t in TIERS
    ]
    team_select = (
        [
            el("label", "Team", for_="team-filter"),
            el(
                "select",
                el("option", "all teams", value=""),
                [el("option", name, value=tid, selected=query.team == tid) for tid, name in teams],
                id="team-filter",
                name="team",
            ),
        ]
        if len(teams) > 1
        else None
    )
    return el(
        "form",
        el("label", "Search name or record number", for_="q"),
        void("input", type="search", id="q", name="q", value=query.q, maxlength=200),
        el("label", "Need", for_="status-filter"),
        el("select", statuses, id="status-filter", name="status"),
        team_select,
        void("input", type="hidden", name="sort", value=query.sort),
        void("input", type="hidden", name="dir", value="desc" if query.desc else "asc"),
        el("button", "Show", type="submit"),
        el("a", "Clear", href="/team")
        if query != ListQuery(sort=query.sort, desc=query.desc)
        else None,
        method="get",
        action="/team",
        class_="inline-form list-controls",
        role="search",
    )


def _pager(query: ListQuery, total: int) -> Html | None:
    pages = max((total + query.per_page - 1) // query.per_page, 1)
    if pages == 1:
        return None
    page = min(max(query.page, 1), pages)
    return el(
        "nav",
        el("a", "← Previous", href=_link(query, page=page - 1), rel="prev") if page > 1 else None,
        el("span", f"Page {page} of {pages}", aria_current="page"),
        el("a", "Next →", href=_link(query, page=page + 1), rel="next") if page < pages else None,
        class_="pager",
        aria_label="Pages of the list",
    )


@router.get("/team")
@web_errors
async def team(
    request: Request,
    conn: Conn,
    settings: AppSettings,
    user: PageUser,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    team: Annotated[str, Query(max_length=40)] = "",
    sort: Annotated[str, Query(max_length=20)] = "need",
    dir: Annotated[str, Query(max_length=4)] = "asc",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """The care team's patients, sorted by need (or any column), searchable; polls for changes."""
    query = ListQuery(
        q=q,
        status=status if status in TIERS else "",
        team=team,
        sort=sort if sort in SORTS else "need",
        desc=dir == "desc",
        page=page_no,
    )
    now = datetime.now(UTC)
    patients = await list_patients(conn, team_ids=None if user.role == "admin" else user.team_ids)
    rows = await team_rows(
        conn,
        patients,
        now=now,
        no_data_after=timedelta(days=settings.alert_no_data_after_enrolment_days),
    )
    shown, total = select_rows(rows, query)
    recovery = await team_trajectories(conn, [r.patient for r in shown])
    # Building the list's markup from the fetched rows is pure Python (about 10 ms for a page of
    # 50 rows, measured by rehab bench api): in a thread the event loop can switch back to other
    # requests while it runs (the GIL is handed over every few ms) instead of holding every API
    # request on this process until the page is done.
    body = await asyncio.to_thread(_body, rows, patients, shown, total, query, user, now, recovery)
    return html_response(request, page(request, title="Patients", body=body, user=user, live=True))


def _body(
    rows: list[PatientRow],
    patients: list[PatientRecord],
    shown: list[PatientRow],
    total: int,
    query: ListQuery,
    user: Principal,
    now: datetime,
    recovery: Mapping[UUID, analysis.Trajectory],
) -> Html:
    """The list page's content from its fetched rows (no I/O: runs in a thread)."""
    teams = sorted({(str(r.patient.team_id), r.team_name) for r in rows}, key=lambda t: t[1])
    show_team = user.role == "admin" or len(teams) > 1
    names = Counter(p.display_name.lower() for p in patients)
    namesakes = {n for n, c in names.items() if c > 1}
    urgent = sum(1 for r in rows if r.tier == "urgent")
    overdue = sum(1 for r in rows if r.overdue)
    summary = f"{len(rows)} patients; {urgent} with an urgent alert"
    summary += f", {overdue} overdue." if overdue else "."
    if total != len(rows):
        summary += f" {total} match."
    return el(
        "section",
        el("h1", "Patients"),
        _controls(query, teams),
        el(
            "div",
            el("p", summary, class_="summary-line", aria_live="polite"),
            team_table(
                shown,
                now,
                query=query,
                show_team=show_team,
                namesakes=namesakes,
                recovery=recovery,
            )
            if rows
            else el("p", "No patients in your care teams yet.", class_="empty"),
            _pager(query, total),
            data_live="team-list",
        ),
    )
