"""Turning a day's analysis flags and a patient's check-in into alert episodes.

Most analysis flags describe the day they are on: an episode lasts while the flag comes back on
consecutive days and resolves itself on the first later day without it. Multi-day flags
(``NO_DATA``, ``BELOW_TARGET_STREAK``, ``RESTING_HR_RISE``) fire only on the day their condition
starts (``analysis.flags``), so their episodes last while the day's summary still shows the
condition and resolve when it no longer does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.alerts._store import AlertTarget, open_or_extend, resolve, unresolved
from service.notify import queue_alert

__all__ = ["DEFAULT_DIGEST_INTERVAL_S", "alert_target", "apply_day_flags", "raise_alert"]

# Tunable default (as REHAB_NOTIFY_DIGEST_INTERVAL_S): hourly digests of non-urgent alerts.
DEFAULT_DIGEST_INTERVAL_S = 3600

_PERSISTS: Mapping[str, Callable[[Mapping[str, Any]], bool]] = {
    "NO_DATA": lambda s: s.get("status") == "insufficient_data",
    "BELOW_TARGET_STREAK": lambda s: s.get("status") == "below",
    "RESTING_HR_RISE": lambda s: bool((s.get("heart_rate") or {}).get("resting_elevated")),
}
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
) -> list[int]:
    """Open or extend an episode; queue notifications for a new one. Return urgent delivery ids."""
    alert, new = await open_or_extend(
        conn, target, rule=rule, source=source, severity=severity, day=day, message=message
    )
    if not new or alert.notify not in ("now", "digest"):
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
    summary: Mapping[str, Any],
    digest_interval_s: int,
) -> list[int]:
    """Episodes from ``summary["flags"]``; resolve analysis episodes whose condition cleared."""
    present: dict[str, tuple[str, str]] = {}
    for flag in summary.get("flags") or ():
        code, severity = str(flag["code"]), str(flag.get("severity", "warning"))
        if code not in present or _RANK[severity] > _RANK[present[code][0]]:
            present[code] = (severity, str(flag.get("message", code)))
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
        )
    for alert in await unresolved(conn, patient_id=target.patient_id, source="analysis"):
        if alert.rule in present or day < alert.last_day:
            continue
        persists = _PERSISTS.get(alert.rule)
        if persists is not None and persists(summary) and day > alert.last_day:
            await conn.execute(
                "UPDATE alerts SET last_day = %s WHERE id = %s AND last_day < %s",
                (day, alert.id, day),
            )
            continue
        await resolve(conn, alert.id, by=None, note=f"condition cleared on {day.isoformat()}")
    return urgent
