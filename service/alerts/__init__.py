"""Alerts: episodes per patient and rule, built from analysis flags and check-ins.

An episode is open, then acknowledged (by whom, with a note), then resolved (automatically when
its condition clears, or by hand). Urgent alerts notify the team at once; others go into a digest,
unless the patient's suppression window (the same rule resolved within ``alert_suppression_h``
hours) or weekly budget (``alert_weekly_budget`` non-urgent notifications per rolling week) holds
them back; held-back alerts are still listed.

The worker calls :func:`on_day_summarised` after storing each daily summary.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.alerts._rules import (
    DEFAULT_DIGEST_INTERVAL_S,
    alert_target,
    apply_day_flags,
    raise_alert,
)
from service.alerts._store import (
    SEVERITIES,
    AlertFilter,
    AlertRecord,
    AlertTarget,
    acknowledge,
    get_alert,
    list_alerts,
    resolve,
)

__all__ = [
    "SEVERITIES",
    "AlertFilter",
    "AlertRecord",
    "AlertTarget",
    "acknowledge",
    "alert_target",
    "get_alert",
    "list_alerts",
    "on_day_summarised",
    "raise_alert",
    "resolve",
]


async def on_day_summarised(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    day: date,
    summary: dict[str, Any],
    digest_interval_s: int = DEFAULT_DIGEST_INTERVAL_S,
) -> None:
    """Build, extend or resolve the patient's alert episodes from a stored day's ``flags``.

    Runs in one transaction (nested as a savepoint inside the caller's). Notifications are queued
    in the database; the service's notifier delivers urgent ones within its poll period.
    """
    async with conn.transaction():
        target = await alert_target(conn, patient_id)
        if target is None:
            return
        await apply_day_flags(
            conn, target, day=day, summary=summary, digest_interval_s=digest_interval_s
        )
