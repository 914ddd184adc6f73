"""Turning a day's analysis flags and a patient's check-in into alert episodes.

A day's flag opens or extends its rule's episode; the episode's condition counts as cleared only
after ``clear_days`` complete judged days without it (days in progress, without data or not yet
analysed count neither way). Multi-day flags (``NO_DATA``, ``BELOW_TARGET_STREAK``,
``RESTING_HR_RISE``) fire only on the day their condition starts (``analysis.flags``), so their
episodes last while the day's summary still shows the condition.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts._store import (
    DEFAULT_CLEAR_DAYS,
    AlertTarget,
    apply_clearance,
    lock_patient,
    open_or_extend,
)
from service.notify import queue_alert

__all__ = ["DEFAULT_DIGEST_INTERVAL_S", "alert_target", "apply_day_flags", "raise_alert"]

# Tunable default (as REHAB_NOTIFY_DIGEST_INTERVAL_S): hourly digests of non-urgent alerts.
DEFAULT_DIGEST_INTERVAL_S = 3600

_RANK = {"info": 0, "warning": 1, "urgent": 2}


async def alert_target(conn: AsyncConnection[Any], patient_id: UUID) -> AlertTarget | None:
    cur = await conn.execute(
        "SELECT team_id, alert_suppression_h, alert_weekly_budget FROM patients WHERE id = %s",
        (patient_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return AlertTarget(
        patient_id=patient_id, team_id=row[0], suppression_h=row[1], weekly_budget=row[2]
    )


async def raise_alert(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    rule: str,
    source: str,
    severity: str,
    day: date,
    message: str,
    digest_interval_s: int,
    clear_days: int = DEFAULT_CLEAR_DAYS,
) -> list[int]:
    """Open or extend an episode; queue notifications for a new one. Return urgent delivery ids."""
    alert, notify = await open_or_extend(
        conn,
        target,
        rule=rule,
        source=source,
        severity=severity,
        day=day,
        message=message,
        clear_days=clear_days,
    )
    if not notify or alert.notify not in ("now", "digest"):
        return []
    ids = await queue_alert(
        conn,
        alert_id=alert.id,
        team_id=alert.team_id,
        digest=alert.notify == "digest",
        digest_interval_s=digest_interval_s,
    )
    return ids if alert.notify == "now" else []


async def apply_day_flags(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    day: date,
    summary: analysis.DaySummary,
    digest_interval_s: int,
    clear_days: int = DEFAULT_CLEAR_DAYS,
) -> list[int]:
    """Episodes from ``summary.flags``; extend or clear the analysis episodes without them."""
    await lock_patient(conn, target.patient_id)
    present: dict[str, tuple[str, str]] = {}
    for flag in summary.flags:
        if flag.code not in present or _RANK[flag.severity] > _RANK[present[flag.code][0]]:
            present[flag.code] = (flag.severity, flag.message)
    urgent: list[int] = []
    for code, (severity, message) in sorted(present.items()):
        urgent += await raise_alert(
            conn,
            target,
            rule=code,
            source="analysis",
            severity=severity,
            day=day,
            message=message,
            digest_interval_s=digest_interval_s,
            clear_days=clear_days,
        )
    await apply_clearance(
        conn, patient_id=target.patient_id, day=day, summary=summary, clear_days=clear_days
    )
    return urgent
