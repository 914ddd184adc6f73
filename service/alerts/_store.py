"""Alert episodes in the database: open, extend, acknowledge, resolve, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row

from service.errors import ConflictError, NotFoundError

__all__ = [
    "SEVERITIES",
    "AlertFilter",
    "AlertRecord",
    "AlertTarget",
    "NotifyDecision",
    "Severity",
    "acknowledge",
    "get_alert",
    "list_alerts",
    "open_or_extend",
    "resolve",
    "unresolved",
]

Severity = Literal["info", "warning", "urgent"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "urgent")
NotifyDecision = Literal["now", "digest", "suppressed", "budget", "none"]

# Tunable default: the alert budget counts notifications over a rolling week.
_BUDGET_WINDOW = timedelta(days=7)

_COLUMNS = (
    "id, patient_id, team_id, rule, source, severity, state, first_day, last_day, message, notify,"
    " opened_at, acknowledged_at, acknowledged_by, ack_note, resolved_at, resolved_by, resolve_note"
)


@dataclass(frozen=True)
class AlertRecord:
    id: int
    patient_id: UUID
    team_id: UUID
    rule: str
    source: str
    severity: str
    state: str
    first_day: date
    last_day: date
    message: str
    notify: str
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None
    ack_note: str | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolve_note: str | None


@dataclass(frozen=True, kw_only=True)
class AlertTarget:
    """What episode bookkeeping needs to know about the patient."""

    patient_id: UUID
    team_id: UUID
    suppression_h: int
    weekly_budget: int


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity)


async def _fetch(conn: AsyncConnection[Any], query: str, params: Any) -> list[AlertRecord]:
    """Run ``query`` with ``{cols}`` standing for the alert columns."""
    cur = conn.cursor(row_factory=class_row(AlertRecord))
    await cur.execute(sql.SQL(query).format(cols=sql.SQL(_COLUMNS)), params)
    return await cur.fetchall()


async def unresolved(
    conn: AsyncConnection[Any], *, patient_id: UUID, source: str | None = None
) -> list[AlertRecord]:
    return await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE patient_id = %s AND state <> 'resolved'"
        " AND (%s::text IS NULL OR source = %s) ORDER BY id",
        (patient_id, source, source),
    )


async def _decide(
    conn: AsyncConnection[Any], target: AlertTarget, *, rule: str, severity: str
) -> NotifyDecision:
    """How a new episode notifies: urgent at once; others batched, within suppression and budget."""
    if severity == "urgent":
        return "now"
    if severity == "info":
        return "none"
    cur = await conn.execute(
        "SELECT"
        " EXISTS (SELECT 1 FROM alerts WHERE patient_id = %(p)s AND rule = %(r)s"
        "   AND resolved_at > now() - make_interval(hours => %(h)s)),"
        " (SELECT count(*) FROM alerts WHERE patient_id = %(p)s AND notify IN ('now', 'digest')"
        "   AND severity <> 'urgent' AND opened_at > now() - %(w)s)",
        {"p": target.patient_id, "r": rule, "h": target.suppression_h, "w": _BUDGET_WINDOW},
    )
    row = await cur.fetchone()
    assert row is not None
    recently_resolved, spent = row
    if recently_resolved:
        return "suppressed"
    if spent >= target.weekly_budget:
        return "budget"
    return "digest"


async def open_or_extend(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    rule: str,
    source: str,
    severity: str,
    day: date,
    message: str,
) -> tuple[AlertRecord, bool]:
    """Extend the unresolved episode of ``rule`` or open a new one; ``True`` when new.

    The same condition on the same or the next day extends the episode (and raises its severity
    if needed), as does a later day when no summary in between lacks the flag; otherwise the
    stale episode is resolved first. A day inside an already resolved episode (a recomputation)
    changes nothing.
    """
    # Serialise concurrent writers for one patient (worker tasks and check-in requests) until the
    # caller's transaction ends. An advisory lock, not a row lock: the caller may already hold a
    # key-share lock on the patient row (a foreign key), and two of those would deadlock.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s::text, 0))", (str(target.patient_id),)
    )
    current = await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE patient_id = %s AND rule = %s"
        " AND (state <> 'resolved' OR %s BETWEEN first_day AND last_day)"
        " ORDER BY state = 'resolved', id DESC LIMIT 1",
        (target.patient_id, rule, day),
    )
    if current:
        alert = current[0]
        if alert.state == "resolved":
            return alert, False
        if day <= alert.last_day + timedelta(days=1) or await _unbroken(conn, alert, day):
            severity = max(alert.severity, severity, key=_rank)
            rows = await _fetch(
                conn,
                "UPDATE alerts SET first_day = least(first_day, %s), last_day = greatest(last_day, %s),"
                " severity = %s, message = %s WHERE id = %s RETURNING {cols}",
                (day, day, severity, message, alert.id),
            )
            return rows[0], False
        await _close(conn, alert.id, by=None, note=f"condition absent before {day.isoformat()}")
    notify = await _decide(conn, target, rule=rule, severity=severity)
    rows = await _fetch(
        conn,
        "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day, last_day,"
        " message, notify) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING {cols}",
        (target.patient_id, target.team_id, rule, source, severity, day, day, message, notify),
    )
    return rows[0], True


async def _unbroken(conn: AsyncConnection[Any], alert: AlertRecord, day: date) -> bool:
    """Whether no stored summary between the episode and ``day`` lacks the episode's flag.

    The worker may analyse days out of order; a day not analysed yet does not break an episode
    of an analysis rule. Check-in episodes need consecutive days.
    """
    if alert.source != "analysis":
        return False
    cur = await conn.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM daily_summaries WHERE patient_id = %s"
        " AND day > %s AND day < %s AND NOT (%s = ANY(flag_codes)))",
        (alert.patient_id, alert.last_day, day, alert.rule),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def _close(conn: AsyncConnection[Any], alert_id: int, *, by: UUID | None, note: str) -> None:
    await conn.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = %s,"
        " resolve_note = %s WHERE id = %s AND state <> 'resolved'",
        (by, note, alert_id),
    )


async def get_alert(conn: AsyncConnection[Any], alert_id: int) -> AlertRecord:
    rows = await _fetch(conn, "SELECT {cols} FROM alerts WHERE id = %s", (alert_id,))
    if not rows:
        raise NotFoundError(f"no alert {alert_id}")
    return rows[0]


async def acknowledge(
    conn: AsyncConnection[Any], alert_id: int, *, by: UUID, note: str
) -> AlertRecord:
    rows = await _fetch(
        conn,
        "UPDATE alerts SET state = 'acknowledged', acknowledged_at = now(), acknowledged_by = %s,"
        " ack_note = %s WHERE id = %s AND state = 'open' RETURNING {cols}",
        (by, note, alert_id),
    )
    if not rows:
        raise ConflictError(f"alert {alert_id} is not open")
    return rows[0]


async def resolve(
    conn: AsyncConnection[Any], alert_id: int, *, by: UUID | None, note: str
) -> AlertRecord:
    rows = await _fetch(
        conn,
        "UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = %s,"
        " resolve_note = %s WHERE id = %s AND state <> 'resolved' RETURNING {cols}",
        (by, note, alert_id),
    )
    if not rows:
        raise ConflictError(f"alert {alert_id} is already resolved")
    return rows[0]


@dataclass(frozen=True, kw_only=True)
class AlertFilter:
    """Filters of :func:`list_alerts`; ``team_ids=None`` means every team (admins)."""

    team_ids: tuple[UUID, ...] | None
    team_id: UUID | None = None
    patient_id: UUID | None = None
    state: str | None = None
    severity: str | None = None
    before_id: int | None = None
    limit: int = 50


async def list_alerts(conn: AsyncConnection[Any], f: AlertFilter) -> list[AlertRecord]:
    """Alerts matching ``f``, newest first."""
    return await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE (%(all)s OR team_id = ANY(%(teams)s))"
        " AND (%(team)s::uuid IS NULL OR team_id = %(team)s)"
        " AND (%(patient)s::uuid IS NULL OR patient_id = %(patient)s)"
        " AND (%(state)s::text IS NULL OR state = %(state)s)"
        " AND (%(severity)s::text IS NULL OR severity = %(severity)s)"
        " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {
            "all": f.team_ids is None,
            "teams": list(f.team_ids or ()),
            "team": f.team_id,
            "patient": f.patient_id,
            "state": f.state,
            "severity": f.severity,
            "before": f.before_id,
            "limit": f.limit,
        },
    )
