"""What the weekly clinic report shows, read from the database (no drawing here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts import AlertFilter, AlertRecord, list_alerts
from service.patients import PatientRecord
from service.summaries import DayRecord, day_records
from service.worker.days import local_day
from service.worker.profile import load_profile

__all__ = ["ReportAlert", "WeekReport", "load_week", "report_week"]

_MODALITIES = ("running", "swimming", "elliptical")
# A patient's alerts of one week are a handful; 500 bounds the read (tunable default).
_ALERTS_READ = 500


@dataclass(frozen=True, kw_only=True)
class ReportAlert:
    """An alert episode of the week with how it was handled."""

    record: AlertRecord
    acknowledged_by: str | None
    resolved_by: str | None


@dataclass(frozen=True, kw_only=True)
class WeekReport:
    """Everything the report shows: the patient, the plan in force, the days, alerts, check-ins."""

    patient: PatientRecord
    week: int
    first: date
    last: date
    today: date
    targets: analysis.DayTargets
    plan_day: date
    clearances: Mapping[str, date | None]
    override_note: str
    days: Sequence[DayRecord]
    alerts: Sequence[ReportAlert]
    generated_at: datetime


def report_week(*, surgery_date: date, week_of: date) -> tuple[int, date, date]:
    """The week since surgery that contains ``week_of`` (week 1 = the day of surgery and the six
    days after, as the plan counts) and its first and last day; weeks before surgery are 0, -1, …"""
    index = (week_of - surgery_date).days // 7
    first = surgery_date + timedelta(days=7 * index)
    return index + 1, first, first + timedelta(days=6)


async def _emails(conn: AsyncConnection[Any], ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    cur = await conn.execute("SELECT id, email FROM users WHERE id = ANY(%s)", (list(ids),))
    return {row[0]: row[1] for row in await cur.fetchall()}


async def load_week(
    conn: AsyncConnection[Any],
    *,
    patient: PatientRecord,
    week_of: date,
    now: datetime | None = None,
) -> WeekReport:
    """The report of the week since surgery containing ``week_of``."""
    now = now or datetime.now(UTC)
    today = local_day(now, patient.tz)
    week, first, last = report_week(surgery_date=patient.surgery_date, week_of=week_of)
    shown_last = min(last, today)
    days = (
        await day_records(conn, patient_id=patient.id, first=first, last=shown_last, today=today)
        if first <= shown_last
        else []
    )
    # The plan in force on the week's last day (or today, in the current week).
    plan_day = max(first, shown_last)
    profile = await load_profile(conn, patient.id)
    targets = analysis.resolve_day_targets(
        plan=analysis.load_plan(),
        day=plan_day,
        surgery_type=profile.surgery_type,
        approach=profile.approach,
        surgery_date=profile.surgery_date,
        cleared_by_date={m: profile.clearances.cleared_on(m, plan_day) for m in _MODALITIES},
        overrides=profile.plan_overrides,
    )
    in_force = [o for o in profile.plan_overrides if o.effective_from <= plan_day]
    note = in_force[-1].note if in_force else ""
    records = await list_alerts(
        conn, AlertFilter(team_ids=None, patient_id=patient.id, limit=_ALERTS_READ)
    )
    week_alerts = sorted(
        (a for a in records if a.first_day <= last and a.last_day >= first),
        key=lambda a: (a.first_day, a.id),
    )
    emails = await _emails(
        conn,
        {u for a in week_alerts for u in (a.acknowledged_by, a.resolved_by) if u is not None},
    )
    return WeekReport(
        patient=patient,
        week=week,
        first=first,
        last=last,
        today=today,
        targets=targets,
        plan_day=plan_day,
        clearances={m: patient.cleared_on(m) for m in _MODALITIES},
        override_note=note,
        days=days,
        alerts=[
            ReportAlert(
                record=a,
                acknowledged_by=emails.get(a.acknowledged_by) if a.acknowledged_by else None,
                resolved_by=emails.get(a.resolved_by) if a.resolved_by else None,
            )
            for a in week_alerts
        ],
        generated_at=now,
    )
