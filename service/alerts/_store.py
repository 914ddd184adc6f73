"""Alert episodes in the database: open, extend, clear, acknowledge, resolve, list.

States: ``open`` → ``acknowledged`` (a person saw it) → ``resolved``; ``open`` → ``cleared`` (the
condition cleared before anyone acknowledged it: "cleared, not reviewed") → ``resolved`` when
someone acknowledges it. Resolving by hand is possible from every unresolved state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row

import analysis
from service.errors import ConflictError, NotFoundError

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_CLEAR_DAYS",
    "SEVERITIES",
    "STATES",
    "AlertFilter",
    "AlertRecord",
    "AlertState",
    "AlertTarget",
    "NotifyDecision",
    "Severity",
    "acknowledge",
    "apply_clearance",
    "clear_episode",
    "get_alert",
    "list_alerts",
    "lock_patient",
    "open_or_extend",
    "resolve",
    "unresolved",
]

Severity = Literal["info", "warning", "urgent"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "urgent")
AlertState = Literal["open", "acknowledged", "cleared", "resolved"]
STATES: tuple[AlertState, ...] = ("open", "acknowledged", "cleared", "resolved")
#: States of an episode that new days of its condition extend (one per patient and rule).
ACTIVE_STATES: tuple[AlertState, ...] = ("open", "acknowledged")
NotifyDecision = Literal["now", "digest", "suppressed", "budget", "none"]

# Tunable default (as REHAB_ALERT_CLEAR_DAYS): complete judged days without the condition before
# an episode counts as cleared.
DEFAULT_CLEAR_DAYS = 2
# Tunable default: the alert budget counts notified episodes over a rolling week of alert days.
_BUDGET_DAYS = 7
# Day statuses that judge the day (analysis.DayStatus); in_progress and insufficient_data do not.
_JUDGED = ("below", "on_track", "above")

_COLUMNS = (
    "id, patient_id, team_id, rule, source, severity, state, first_day, last_day, message, notify,"
    " opened_at, acknowledged_at, acknowledged_by, ack_note, resolved_at, resolved_by, resolve_note,"
    " cleared_on, (reminded_at IS NOT NULL AND state IN ('open', 'cleared')) AS overdue"
)


@dataclass(frozen=True)
class AlertRecord:
    """One alert episode.

    ``state``: ``open`` (nobody acknowledged it yet), ``acknowledged``, ``cleared`` (the condition
    cleared on ``cleared_on`` before anyone acknowledged it: "cleared, not reviewed", still in the
    team's queue) or ``resolved``. ``overdue``: urgent and not acknowledged within
    ``REHAB_ALERT_ACK_TIMEOUT_S``; the team was notified once more.
    """

    id: int
    patient_id: UUID
    team_id: UUID
    rule: str
    source: str
    severity: str
    state: AlertState
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
    cleared_on: date | None = None
    overdue: bool = False


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


async def lock_patient(conn: AsyncConnection[Any], patient_id: UUID) -> None:
    """Serialise writers of one patient's alerts until the caller's transaction ends.

    An advisory lock, not a row lock: the caller may already hold a key-share lock on the patient
    row (a foreign key), and two of those would deadlock.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s::text, 0))", (str(patient_id),)
    )


async def unresolved(
    conn: AsyncConnection[Any], *, patient_id: UUID, source: str | None = None
) -> list[AlertRecord]:
    return await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE patient_id = %s AND state <> 'resolved'"
        " AND (%s::text IS NULL OR source = %s) ORDER BY id",
        (patient_id, source, source),
    )


async def _active(conn: AsyncConnection[Any], patient_id: UUID, rule: str) -> AlertRecord | None:
    rows = await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE patient_id = %s AND rule = %s"
        " AND state IN ('open', 'acknowledged')",
        (patient_id, rule),
    )
    return rows[0] if rows else None


# --- When a condition counts as present or cleared on a day -------------------------------------


@dataclass(frozen=True)
class _DayFacts:
    """What a stored day says about the conditions of the analysis rules."""

    status: str
    flags: tuple[str, ...]
    resting_elevated: bool
    running_uncleared: bool


def _condition(rule: str, facts: _DayFacts) -> bool:
    """Whether ``rule``'s condition holds on a day.

    Multi-day flags (``NO_DATA``, ``BELOW_TARGET_STREAK``, ``RESTING_HR_RISE``) fire only on the
    day their condition starts (``analysis.flags``); their condition lasts while the day's summary
    still shows it. Over-target days and running before clearance raise their flag at most once
    a week (one behaviour, one flag): their condition lasts while the patient keeps doing more
    than the plan's upper bound, or keeps running before clearance, on the days in between.
    """
    if rule in facts.flags:
        return True
    if rule == "NO_DATA":
        return facts.status == "insufficient_data"
    if rule == "BELOW_TARGET_STREAK":
        return facts.status == "below"
    if rule == "RESTING_HR_RISE":
        return facts.resting_elevated
    if rule == "DAILY_OVER_TARGET":
        return facts.status == "above"
    if rule == "HIGH_IMPACT_BEFORE_CLEARANCE":
        return facts.running_uncleared
    return False


def _facts(summary: analysis.DaySummary) -> _DayFacts:
    """The facts of ``summary`` (as :func:`_clearance` reads them from a stored row)."""
    running_min = summary.aerobic_minutes_by_kind.get("running", 0)
    cleared = summary.targets.cleared.get("running", False)
    return _DayFacts(
        status=summary.status,
        flags=tuple(f.code for f in summary.flags),
        resting_elevated=summary.heart_rate.resting_elevated,
        running_uncleared=running_min > 0 and not cleared,
    )


async def _clearance(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    rule: str,
    after: date,
    before: date | None,
    clear_days: int,
    current: tuple[date, analysis.DaySummary] | None,
) -> tuple[date | None, date | None]:
    """Stored days after ``after`` (and before ``before``): ``(cleared_on, last_condition_day)``.

    ``cleared_on`` is the ``clear_days``-th complete judged day without the condition after the
    last day with it; days in progress, without data or not analysed yet count neither way.
    ``current`` is the day being summarised, taken from its summary rather than its stored row.
    """
    cur = await conn.execute(
        "SELECT day, status, flag_codes,"
        " coalesce((summary->'heart_rate'->>'resting_elevated')::boolean, false),"
        " coalesce((summary->'aerobic_minutes_by_kind'->>'running')::int, 0) > 0"
        " AND NOT coalesce((summary->'targets'->'cleared'->>'running')::boolean, false)"
        " FROM daily_summaries WHERE patient_id = %s AND day > %s"
        " AND (%s::date IS NULL OR day < %s) ORDER BY day",
        (patient_id, after, before, before),
    )
    days: dict[date, _DayFacts] = {
        d: _DayFacts(
            status=status,
            flags=tuple(flags or ()),
            resting_elevated=bool(resting),
            running_uncleared=bool(running),
        )
        for d, status, flags, resting, running in await cur.fetchall()
    }
    if current is not None and current[0] > after and (before is None or current[0] < before):
        days[current[0]] = _facts(current[1])
    cleared_on: date | None = None
    last_condition: date | None = None
    clean = 0
    for d in sorted(days):
        facts = days[d]
        if _condition(rule, facts):
            last_condition, clean, cleared_on = d, 0, None
        elif facts.status in _JUDGED and cleared_on is None:
            clean += 1
            if clean >= clear_days:
                cleared_on = d
    return cleared_on, last_condition


async def clear_episode(
    conn: AsyncConnection[Any], alert: AlertRecord, *, cleared_on: date
) -> AlertRecord:
    """The condition cleared: ``cleared`` if nobody acknowledged it, else (or info) resolved."""
    if alert.state == "acknowledged" or alert.severity == "info":
        rows = await _fetch(
            conn,
            "UPDATE alerts SET state = 'resolved', cleared_on = %s, resolved_at = now(),"
            " resolved_by = NULL, resolve_note = %s WHERE id = %s RETURNING {cols}",
            (cleared_on, f"condition cleared on {cleared_on.isoformat()}", alert.id),
        )
    else:
        rows = await _fetch(
            conn,
            "UPDATE alerts SET state = 'cleared', cleared_on = %s WHERE id = %s RETURNING {cols}",
            (cleared_on, alert.id),
        )
    return rows[0]


async def apply_clearance(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    day: date,
    summary: analysis.DaySummary,
    clear_days: int,
) -> None:
    """Extend or clear the patient's active analysis episodes after ``day`` was summarised."""
    for alert in await unresolved(conn, patient_id=patient_id, source="analysis"):
        if alert.state not in ACTIVE_STATES:
            continue
        cleared_on, last_condition = await _clearance(
            conn,
            patient_id=patient_id,
            rule=alert.rule,
            after=alert.last_day,
            before=None,
            clear_days=clear_days,
            current=(day, summary),
        )
        if last_condition is not None:
            await conn.execute(
                "UPDATE alerts SET last_day = %s WHERE id = %s AND last_day < %s",
                (last_condition, alert.id, last_condition),
            )
        if cleared_on is not None:
            await clear_episode(conn, alert, cleared_on=cleared_on)


# --- Opening and extending -----------------------------------------------------------------------


async def _decide(
    conn: AsyncConnection[Any], target: AlertTarget, *, rule: str, severity: str, day: date
) -> NotifyDecision:
    """How a new episode notifies: urgent at once; others batched, within suppression and budget.

    Both are counted on the alerts' days, not on the wall clock, so that a backfill of old days
    behaves as live data did: the same rule's episode that ended within ``suppression_h`` hours
    (whole days) before ``day`` suppresses; notified non-urgent episodes that started in the
    week up to ``day`` spend the budget.
    """
    if severity == "urgent":
        return "now"
    if severity == "info":
        return "none"
    cur = await conn.execute(
        "SELECT"
        " EXISTS (SELECT 1 FROM alerts WHERE patient_id = %(p)s AND rule = %(r)s"
        "   AND state IN ('cleared', 'resolved') AND last_day < %(d)s"
        "   AND (%(d)s::date - last_day) * 24 <= %(h)s),"
        " (SELECT count(*) FROM alerts WHERE patient_id = %(p)s AND notify IN ('now', 'digest')"
        "   AND severity <> 'urgent' AND first_day > %(d)s::date - %(w)s AND first_day <= %(d)s)",
        {
            "p": target.patient_id,
            "r": rule,
            "h": target.suppression_h,
            "d": day,
            "w": _BUDGET_DAYS,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    recently_ended, spent = row
    if recently_ended:
        return "suppressed"
    if spent >= target.weekly_budget:
        return "budget"
    return "digest"


async def _extend(
    conn: AsyncConnection[Any], alert: AlertRecord, *, day: date, severity: str, message: str
) -> tuple[AlertRecord, bool]:
    """Widen ``alert`` to ``day``, raising its severity; ``True`` when it just became urgent."""
    raised = max(alert.severity, severity, key=_rank)
    escalated = raised == "urgent" and alert.severity != "urgent"
    rows = await _fetch(
        conn,
        "UPDATE alerts SET first_day = least(first_day, %(d)s), last_day = greatest(last_day, %(d)s),"
        " severity = %(s)s, message = %(m)s,"
        " urgent_since = CASE WHEN %(esc)s THEN now() ELSE urgent_since END,"
        " notify = CASE WHEN %(esc)s THEN 'now' ELSE notify END"
        " WHERE id = %(id)s RETURNING {cols}",
        {"d": day, "s": raised, "m": message, "esc": escalated, "id": alert.id},
    )
    return rows[0], escalated


async def _insert(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    rule: str,
    source: str,
    severity: str,
    day: date,
    message: str,
    cleared_on: date | None = None,
) -> AlertRecord:
    notify = await _decide(conn, target, rule=rule, severity=severity, day=day)
    state = "open" if cleared_on is None else ("resolved" if severity == "info" else "cleared")
    rows = await _fetch(
        conn,
        "INSERT INTO alerts (patient_id, team_id, rule, source, severity, state, first_day,"
        " last_day, message, notify, cleared_on, urgent_since, resolved_at, resolve_note)"
        " VALUES (%(p)s, %(t)s, %(r)s, %(src)s, %(s)s, %(st)s, %(d)s, %(d)s, %(m)s, %(n)s, %(c)s::date,"
        " CASE WHEN %(s)s = 'urgent' THEN now() END, CASE WHEN %(st)s = 'resolved' THEN now() END,"
        " CASE WHEN %(st)s = 'resolved' THEN 'condition cleared on ' || %(c)s::date::text END)"
        " RETURNING {cols}",
        {
            "p": target.patient_id,
            "t": target.team_id,
            "r": rule,
            "src": source,
            "s": severity,
            "st": state,
            "d": day,
            "m": message,
            "n": notify,
            "c": cleared_on,
        },
    )
    return rows[0]


async def open_or_extend(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    rule: str,
    source: str,
    severity: str,
    day: date,
    message: str,
    clear_days: int = DEFAULT_CLEAR_DAYS,
) -> tuple[AlertRecord, bool]:
    """Record ``rule``'s condition on ``day``; ``True`` when the team should be notified.

    Analysis flags: a day inside an existing episode (a recomputation) changes nothing but its
    severity; a day next to the active episode, with fewer than ``clear_days`` complete judged
    days without the condition in between, extends it; a day just after a cleared, unreviewed
    episode that had not really cleared re-opens it; otherwise a new episode opens.

    Check-ins and the service's own checks are reports, never recomputations: an open
    (unacknowledged) episode is extended; after it was acknowledged, cleared or resolved a new
    report opens a new episode (an acknowledged one is resolved as followed by the new report).
    """
    await lock_patient(conn, target.patient_id)
    if source == "analysis":
        return await _analysis_day(
            conn,
            target,
            rule=rule,
            severity=severity,
            day=day,
            message=message,
            clear_days=clear_days,
        )
    active = await _active(conn, target.patient_id, rule)
    if active is not None and active.state == "open":
        return await _extend(conn, active, day=day, severity=severity, message=message)
    if active is not None:
        await _close(conn, active.id, by=None, note=f"followed by a new report on {day}")
    alert = await _insert(
        conn, target, rule=rule, source=source, severity=severity, day=day, message=message
    )
    return alert, True


async def _analysis_day(
    conn: AsyncConnection[Any],
    target: AlertTarget,
    *,
    rule: str,
    severity: str,
    day: date,
    message: str,
    clear_days: int,
) -> tuple[AlertRecord, bool]:
    inside = await _fetch(
        conn,
        "SELECT {cols} FROM alerts WHERE patient_id = %s AND rule = %s"
        " AND %s BETWEEN first_day AND last_day ORDER BY id DESC LIMIT 1",
        (target.patient_id, rule, day),
    )
    if inside:
        if inside[0].state in ACTIVE_STATES:
            return await _extend(conn, inside[0], day=day, severity=severity, message=message)
        return inside[0], False
    span: dict[str, Any] = {"patient_id": target.patient_id, "rule": rule}
    active = await _active(conn, target.patient_id, rule)
    if active is not None and day > active.last_day:
        cleared_on, _ = await _clearance(
            conn, **span, after=active.last_day, before=day, clear_days=clear_days, current=None
        )
        if cleared_on is None:
            return await _extend(conn, active, day=day, severity=severity, message=message)
        await clear_episode(conn, active, cleared_on=cleared_on)
    elif active is not None:
        # An earlier day analysed late: the same episode, or an earlier one that had cleared.
        cleared_on, _ = await _clearance(
            conn, **span, after=day, before=active.first_day, clear_days=clear_days, current=None
        )
        if cleared_on is None:
            return await _extend(conn, active, day=day, severity=severity, message=message)
        alert = await _insert(
            conn,
            target,
            rule=rule,
            source="analysis",
            severity=severity,
            day=day,
            message=message,
            cleared_on=cleared_on,
        )
        return alert, True
    else:
        # A cleared, unreviewed episode whose clearing days were recomputed with the condition.
        reopen = await _fetch(
            conn,
            "SELECT {cols} FROM alerts WHERE patient_id = %s AND rule = %s AND state = 'cleared'"
            " AND last_day < %s AND cleared_on >= %s ORDER BY id DESC LIMIT 1",
            (target.patient_id, rule, day, day),
        )
        if reopen:
            await conn.execute(
                "UPDATE alerts SET state = 'open', cleared_on = NULL WHERE id = %s",
                (reopen[0].id,),
            )
            return await _extend(
                conn,
                await get_alert(conn, reopen[0].id),
                day=day,
                severity=severity,
                message=message,
            )
    alert = await _insert(
        conn, target, rule=rule, source="analysis", severity=severity, day=day, message=message
    )
    return alert, True


async def _close(conn: AsyncConnection[Any], alert_id: int, *, by: UUID | None, note: str) -> None:
    await conn.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = %s,"
        " resolve_note = %s WHERE id = %s AND state <> 'resolved'",
        (by, note, alert_id),
    )


# --- A person's actions and the lists ------------------------------------------------------------


async def get_alert(conn: AsyncConnection[Any], alert_id: int) -> AlertRecord:
    rows = await _fetch(conn, "SELECT {cols} FROM alerts WHERE id = %s", (alert_id,))
    if not rows:
        raise NotFoundError(f"no alert {alert_id}")
    return rows[0]


async def acknowledge(
    conn: AsyncConnection[Any], alert_id: int, *, by: UUID, note: str
) -> AlertRecord:
    """Acknowledge an open alert; acknowledging a cleared (unreviewed) alert resolves it."""
    rows = await _fetch(
        conn,
        "UPDATE alerts SET acknowledged_at = now(), acknowledged_by = %(by)s, ack_note = %(note)s,"
        " state = CASE WHEN state = 'cleared' THEN 'resolved' ELSE 'acknowledged' END,"
        " resolved_at = CASE WHEN state = 'cleared' THEN now() END,"
        " resolved_by = CASE WHEN state = 'cleared' THEN %(by)s::uuid END,"
        " resolve_note = CASE WHEN state = 'cleared'"
        "   THEN 'reviewed after the condition cleared on ' || cleared_on::text END"
        " WHERE id = %(id)s AND state IN ('open', 'cleared') RETURNING {cols}",
        {"by": by, "note": note, "id": alert_id},
    )
    if not rows:
        raise ConflictError(f"alert {alert_id} is neither open nor cleared")
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
    overdue: bool | None = None
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
        " AND (%(overdue)s::boolean IS NULL"
        "   OR (reminded_at IS NOT NULL AND state IN ('open', 'cleared')) = %(overdue)s)"
        " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {
            "all": f.team_ids is None,
            "teams": list(f.team_ids or ()),
            "team": f.team_id,
            "patient": f.patient_id,
            "state": f.state,
            "severity": f.severity,
            "overdue": f.overdue,
            "before": f.before_id,
            "limit": f.limit,
        },
    )
