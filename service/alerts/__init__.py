"""Alerts: episodes per patient and rule, built from analysis flags, check-ins and the service's
own checks. An alert lives until a person has seen it.

States and transitions:

- ``open``: raised, nobody acknowledged it yet. → ``acknowledged`` when a person acknowledges it;
  → ``cleared`` when its condition clears first; → ``resolved`` by hand.
- ``acknowledged``: a person saw it. → ``resolved`` when its condition clears, or by hand.
- ``cleared`` ("cleared, not reviewed", with ``cleared_on``): the condition cleared before anyone
  acknowledged the alert. It stays in the care team's queue; acknowledging it resolves it.
- ``resolved``: done; a recomputed day inside a resolved episode changes nothing.

When a condition clears: an analysis episode's condition counts as cleared only after
``clear_days`` (``REHAB_ALERT_CLEAR_DAYS``, default 2) complete, judged days without it; a day in
progress, a day without data (``insufficient_data``) or a day not analysed yet never clears it.
Check-in episodes (red flags, activity before clearance) never clear by themselves: a person
resolves them. A new report after the episode was acknowledged, cleared or resolved opens a new
episode and notifies (an open one, nobody having looked yet, is extended). "No data since
enrolment" clears when the first sample arrives.

Info alerts never notify and need no acknowledgement to leave the queue: when their condition
clears they are resolved directly (never ``cleared``).

Notifications: urgent alerts notify the team at once; an urgent alert not acknowledged within
``REHAB_ALERT_ACK_TIMEOUT_S`` (default 4 h) of becoming urgent is ``overdue`` and notifies once
more. Warnings go into a digest unless the suppression window (an episode of the same rule ended
within ``alert_suppression_h`` hours before the new one's first day) or the weekly budget
(``alert_weekly_budget`` notified non-urgent episodes whose first days fall in the week up to the
new one's) holds them back. Both count alert days, not the wall clock, so a backfill behaves like
live data; held-back alerts are still listed.

The worker calls :func:`on_day_summarised` after storing each daily summary; the notifier's loop
runs :class:`AlertWatch` (overdue reminders, no data since enrolment).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts._rules import (
    DEFAULT_DIGEST_INTERVAL_S,
    alert_target,
    apply_day_flags,
    raise_alert,
)
from service.alerts._store import (
    DEFAULT_CLEAR_DAYS,
    SEVERITIES,
    STATES,
    AlertFilter,
    AlertRecord,
    AlertState,
    AlertTarget,
    acknowledge,
    get_alert,
    list_alerts,
    resolve,
)
from service.alerts._watch import (
    NO_DATA_SINCE_ENROLMENT,
    AlertWatch,
    check_enrolments,
    remind_overdue,
)

__all__ = [
    "DEFAULT_CLEAR_DAYS",
    "NO_DATA_SINCE_ENROLMENT",
    "SEVERITIES",
    "STATES",
    "AlertFilter",
    "AlertRecord",
    "AlertState",
    "AlertTarget",
    "AlertWatch",
    "acknowledge",
    "alert_target",
    "check_enrolments",
    "get_alert",
    "list_alerts",
    "on_day_summarised",
    "raise_alert",
    "remind_overdue",
    "resolve",
]


async def on_day_summarised(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    day: date,
    summary: analysis.DaySummary,
    digest_interval_s: int = DEFAULT_DIGEST_INTERVAL_S,
    clear_days: int = DEFAULT_CLEAR_DAYS,
) -> None:
    """Build, extend or clear the patient's alert episodes from a stored day's ``summary`` (its
    ``flags``, and for the episodes' conditions its status, resting rate, running and clearance).

    Call it after the day's summary row is stored: clearing counts the stored days. Runs in one
    transaction (nested as a savepoint inside the caller's). Notifications are queued in the
    database; the service's notifier delivers urgent ones within its poll period.
    """
    async with conn.transaction():
        target = await alert_target(conn, patient_id)
        if target is None:
            return
        await apply_day_flags(
            conn,
            target,
            day=day,
            summary=summary,
            digest_interval_s=digest_interval_s,
            clear_days=clear_days,
        )
        # RECOVERY_BEHIND is judged when a day completes a week since surgery; service.trajectory
        # raises it through this package, hence the import here.
        from service.trajectory import on_day_stored  # noqa: PLC0415

        await on_day_stored(
            conn,
            patient_id=patient_id,
            day=day,
            status=summary.status,
            digest_interval_s=digest_interval_s,
        )
