"""The care team's list as data: each patient's need, the reasons for it, search, sort and paging.

Need tiers, most in need first: an urgent alert nobody has acknowledged (overdue ones first),
open warnings (over target, heart rate over limit, running before clearance, no data), alerts
whose condition cleared before anyone reviewed them, a latest day over the plan, below target,
not judged yet, on track. An over-target day is never "on track".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection

from service.patients import PatientRecord
from service.summaries import DayBrief, summary_briefs
from service.web._data import DeviceStatus, device_status, local_today
from service.web._me_cards import over_plan

__all__ = [
    "NO_DATA_AFTER",
    "PAGE_SIZE",
    "SILENT_AFTER",
    "SORTS",
    "SPARK_DAYS",
    "TIERS",
    "TIER_LABEL",
    "AlertBrief",
    "ListQuery",
    "PatientRow",
    "Reason",
    "need_rank",
    "record_label",
    "rule_words",
    "select_rows",
    "team_rows",
]

# Tunable default: the list shows the last 14 days as a sparkline (issue 6).
SPARK_DAYS = 14
# Tunable default: a hub or band without data for 24 h stands out as silent.
SILENT_AFTER = timedelta(hours=24)
# Tunable default (as REHAB_ALERT_NO_DATA_AFTER_ENROLMENT_DAYS): a patient enrolled this long ago
# without any data is a warning on the list ("is the hub set up?").
NO_DATA_AFTER = timedelta(days=2)
# Tunable default: 50 rows a page keep the list quick to render and to scan.
PAGE_SIZE = 50

Tier = Literal["urgent", "warning", "review", "over", "below", "not_judged", "on_track"]
TIERS: tuple[Tier, ...] = (
    "urgent",
    "warning",
    "review",
    "over",
    "below",
    "not_judged",
    "on_track",
)
TIER_LABEL: dict[str, str] = {
    "urgent": "Urgent alert",
    "warning": "Open warning",
    "review": "Cleared, not reviewed",
    "over": "Over the plan",
    "below": "Below target",
    "not_judged": "Not judged yet",
    "on_track": "On track",
}
#: Alert rules (analysis flag codes and check-in rules) in the care team's words.
RULE_WORDS: dict[str, str] = {
    "RED_FLAG_SYMPTOM": "red-flag symptom reported",
    "ACTIVITY_BEFORE_CLEARANCE": "activity reported before clearance",
    "HR_OVER_LIMIT": "heart rate over limit",
    "SESSION_TOO_LONG": "session longer than allowed",
    "DAILY_OVER_TARGET": "over target",
    "RAMP_TOO_FAST": "activity rising too fast",
    "HIGH_IMPACT_BEFORE_CLEARANCE": "running before clearance",
    "BELOW_TARGET_STREAK": "below target several days in a row",
    "NO_DATA": "no data",
    "NO_DATA_SINCE_ENROLMENT": "no data since enrolment: is the hub set up?",
    "RESTING_HR_RISE": "resting heart rate rising",
}

SortKey = Literal["need", "name", "record", "team", "surgery", "today", "alerts", "last_data"]
SORTS: tuple[SortKey, ...] = (
    "need",
    "name",
    "record",
    "team",
    "surgery",
    "today",
    "alerts",
    "last_data",
)


def record_label(record_number: str) -> str:
    """``MRN 0042``, or the record number alone when it already says what it is (``MRN-0042``)."""
    return record_number if record_number.lower().startswith("mrn") else f"MRN {record_number}"


def rule_words(rule: str) -> str:
    return RULE_WORDS.get(rule, rule.replace("_", " ").lower())


def short_day(day: date) -> str:
    """``3 Dec`` (the list's dates are recent; the year adds nothing)."""
    return f"{day.day} {day.strftime('%b')}"


@dataclass(frozen=True, kw_only=True)
class AlertBrief:
    """An unresolved alert as the list needs it."""

    rule: str
    severity: str
    state: str
    first_day: date
    last_day: date
    opened_at: datetime
    cleared_on: date | None = None
    overdue: bool = False


@dataclass(frozen=True, kw_only=True)
class Reason:
    """One plain-language reason for a row's need, with its level for the badge."""

    text: str
    level: str  # urgent | warning | review | info


@dataclass(frozen=True, kw_only=True)
class PatientRow:
    """One row of the care team's list."""

    patient: PatientRecord
    today: date
    days: tuple[DayBrief, ...]
    alerts: tuple[AlertBrief, ...] = ()
    device: DeviceStatus | None = None
    team_name: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    no_data_after: timedelta = NO_DATA_AFTER

    @property
    def days_since_surgery(self) -> int:
        return (self.today - self.patient.surgery_date).days

    @property
    def today_point(self) -> DayBrief | None:
        return next((d for d in self.days if d.date == self.today), None)

    @property
    def latest_judged(self) -> DayBrief | None:
        return next(
            (d for d in reversed(self.days) if d.status in ("below", "on_track", "above")), None
        )

    @property
    def last_data_at(self) -> datetime | None:
        return self.device.last_sample_at if self.device else None

    def count(self, *, severity: str, state: str = "open") -> int:
        return sum(1 for a in self.alerts if a.severity == severity and a.state == state)

    @property
    def overdue(self) -> int:
        return sum(1 for a in self.alerts if a.overdue)

    @property
    def open_alerts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.alerts:
            if a.state == "open":
                out[a.severity] = out.get(a.severity, 0) + 1
        return out

    @property
    def no_data_since_enrolment(self) -> bool:
        """Enrolled :data:`NO_DATA_AFTER` ago and not a single sample since."""
        return self.last_data_at is None and self.now - self.patient.created_at > self.no_data_after

    @property
    def tier(self) -> Tier:
        """The row's need tier (see the module docstring). Only open alerts raise it to urgent or
        warning: an acknowledged one is being handled."""
        if self.overdue or self.count(severity="urgent"):
            return "urgent"
        if self.count(severity="warning") or self.no_data_since_enrolment:
            return "warning"
        if any(a.state == "cleared" for a in self.alerts):
            return "review"
        latest = self.latest_judged
        if over_plan(self.today_point) or (latest is not None and over_plan(latest)):
            return "over"
        if latest is None:
            return "not_judged"
        return "below" if latest.status == "below" else "on_track"

    def reasons(self) -> list[Reason]:
        """Why the row is where it is, in plain words and since when."""
        out: list[Reason] = []
        order = {"urgent": 0, "warning": 1, "info": 2}
        alerts = sorted(
            self.alerts,
            key=lambda a: (not a.overdue, a.state != "open", order.get(a.severity, 3), a.first_day),
        )
        for a in alerts:
            words = rule_words(a.rule)
            since = f"since {short_day(a.first_day)}"
            if a.overdue:
                hours = max(int((self.now - a.opened_at).total_seconds() // 3600), 1)
                out.append(
                    Reason(
                        text=f"Overdue: {words} {since}, not acknowledged for {hours} h",
                        level="urgent",
                    )
                )
            elif a.state == "open":
                out.append(Reason(text=f"{words.capitalize()} {since}", level=a.severity))
            elif a.state == "cleared":
                continue  # one line for all of them, below
            else:
                out.append(Reason(text=f"Acknowledged: {words} {since}", level="info"))
        cleared = [a for a in alerts if a.state == "cleared" and not a.overdue]
        if len(cleared) == 1:
            a = cleared[0]
            on = f", cleared {short_day(a.cleared_on)}" if a.cleared_on else ""
            out.append(
                Reason(
                    text=f"Cleared, not reviewed: {rule_words(a.rule)}"
                    f" since {short_day(a.first_day)}{on}",
                    level="review",
                )
            )
        elif cleared:
            counts = Counter(rule_words(a.rule) for a in cleared)
            listed = ", ".join(f"{w} ×{n}" if n > 1 else w for w, n in counts.most_common())
            oldest = short_day(min(a.first_day for a in cleared))
            out.append(
                Reason(
                    text=f"Cleared, not reviewed: {listed} (oldest since {oldest})",
                    level="review",
                )
            )
        if self.no_data_since_enrolment and not any(a.rule.startswith("NO_DATA") for a in alerts):
            enrolled = short_day(self.patient.created_at.astimezone(self.patient.zone).date())
            out.append(
                Reason(
                    text=f"No data since enrolment on {enrolled}: is the hub set up?",
                    level="warning",
                )
            )
        today, latest = self.today_point, self.latest_judged
        if over_plan(today):
            out.append(Reason(text="Over the plan today (day in progress)", level="warning"))
        elif latest is not None and over_plan(latest):
            out.append(Reason(text=f"Over the plan on {short_day(latest.date)}", level="warning"))
        elif latest is not None and latest.status == "below":
            run = self._below_since()
            out.append(Reason(text=f"Below target since {short_day(run)}", level="info"))
        elif latest is None and not self.no_data_since_enrolment:
            out.append(Reason(text="No judged day yet", level="info"))
        if self.last_data_at is not None and self.now - self.last_data_at > SILENT_AFTER:
            out.append(
                Reason(
                    text=f"Silent: no data since {short_day(self.last_data_at.date())}",
                    level="warning",
                )
            )
        return out

    def _below_since(self) -> date:
        judged = [d for d in self.days if d.status in ("below", "on_track", "above")]
        since = judged[-1].date
        for d in reversed(judged):
            if d.status != "below":
                break
            since = d.date
        return since


def need_rank(row: PatientRow) -> tuple[int, int, int, int, date, str]:
    """Sort key: tier, then overdue, urgent and warning counts, oldest reason, then the name."""
    oldest = min((a.first_day for a in row.alerts if a.state != "acknowledged"), default=row.today)
    return (
        TIERS.index(row.tier),
        -row.overdue,
        -row.count(severity="urgent"),
        -row.count(severity="warning"),
        oldest,
        row.patient.display_name.lower(),
    )


async def _alerts(conn: AsyncConnection[Any], ids: list[UUID]) -> dict[UUID, list[AlertBrief]]:
    cur = await conn.execute(
        "SELECT patient_id, rule, severity, state, first_day, last_day, opened_at, cleared_on,"
        " (reminded_at IS NOT NULL AND state IN ('open', 'cleared')) AS overdue"
        " FROM alerts WHERE patient_id = ANY(%s) AND state <> 'resolved' ORDER BY id",
        (ids,),
    )
    out: dict[UUID, list[AlertBrief]] = {pid: [] for pid in ids}
    for pid, rule, sev, state, first, last, opened, cleared, overdue in await cur.fetchall():
        out[pid].append(
            AlertBrief(
                rule=rule,
                severity=sev,
                state=state,
                first_day=first,
                last_day=last,
                opened_at=opened,
                cleared_on=cleared,
                overdue=bool(overdue),
            )
        )
    return out


async def team_rows(
    conn: AsyncConnection[Any],
    patients: list[PatientRecord],
    *,
    now: datetime,
    no_data_after: timedelta = NO_DATA_AFTER,
) -> list[PatientRow]:
    """The list rows of ``patients``, sorted by need."""
    ids = [p.id for p in patients]
    if not ids:
        return []
    todays = {p.id: local_today(p, now) for p in patients}
    first = min(todays.values()) - timedelta(days=SPARK_DAYS)
    briefs = await summary_briefs(conn, patient_ids=ids, first=first, last=max(todays.values()))
    days: dict[UUID, list[DayBrief]] = {pid: [] for pid in ids}
    for pid, items in briefs.items():
        since = todays[pid] - timedelta(days=SPARK_DAYS)
        days[pid] = [d for d in items if since < d.date]
    alerts = await _alerts(conn, ids)
    devices = await device_status(conn, ids)
    cur = await conn.execute(
        "SELECT id, name FROM care_teams WHERE id = ANY(%s)", (list({p.team_id for p in patients}),)
    )
    teams = dict(await cur.fetchall())
    rows = [
        PatientRow(
            patient=p,
            today=todays[p.id],
            days=tuple(days[p.id]),
            alerts=tuple(alerts[p.id]),
            device=devices.get(p.id),
            team_name=str(teams.get(p.team_id, "")),
            now=now,
            no_data_after=no_data_after,
        )
        for p in patients
    ]
    return sorted(rows, key=need_rank)


@dataclass(frozen=True, kw_only=True)
class ListQuery:
    """Search, filter, sort and page of the list (all from the query string)."""

    q: str = ""
    status: str = ""
    team: str = ""
    sort: str = "need"
    desc: bool = False
    page: int = 1
    per_page: int = PAGE_SIZE


def _sort_key(sort: str) -> Any:
    never = datetime(1970, 1, 1, tzinfo=UTC)
    keys: dict[str, Any] = {
        "need": need_rank,
        "name": lambda r: (r.patient.display_name.lower(), r.patient.record_number or ""),
        "record": lambda r: (r.patient.record_number is None, r.patient.record_number or ""),
        "team": lambda r: (r.team_name.lower(), need_rank(r)),
        "surgery": lambda r: (r.days_since_surgery, need_rank(r)),
        "today": lambda r: (r.today_point.aerobic_minutes if r.today_point else -1, need_rank(r)),
        "alerts": lambda r: (
            -r.overdue,
            -r.count(severity="urgent"),
            -len([a for a in r.alerts if a.state != "acknowledged"]),
            need_rank(r),
        ),
        "last_data": lambda r: (r.last_data_at or never, need_rank(r)),
    }
    return keys.get(sort, need_rank)


def select_rows(rows: list[PatientRow], query: ListQuery) -> tuple[list[PatientRow], int]:
    """The rows of the query's page, and how many rows match in all."""
    needle = query.q.strip().lower()
    found = [
        r
        for r in rows
        if (
            not needle
            or needle in r.patient.display_name.lower()
            or needle in (r.patient.record_number or "").lower()
        )
        and (not query.status or r.tier == query.status)
        and (not query.team or str(r.patient.team_id) == query.team)
    ]
    found.sort(key=_sort_key(query.sort), reverse=query.desc)
    start = (max(query.page, 1) - 1) * query.per_page
    return found[start : start + query.per_page], len(found)
