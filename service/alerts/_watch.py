"""The alerts' periodic checks, run by the notifier's loop with an injected clock.

- **Overdue**: an urgent alert nobody acknowledged within ``ack_timeout_s`` of becoming urgent
  notifies the team once more (a reminder) and shows as ``overdue``.
- **No data since enrolment**: a patient whose first device was enrolled at least
  ``no_data_after_days`` days ago and who has sent no sample at all gets one warning ("is the hub
  set up?"); it clears when the first sample arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection, sql

from service.alerts._rules import DEFAULT_DIGEST_INTERVAL_S, alert_target, raise_alert
from service.alerts._store import clear_episode, get_alert, lock_patient
from service.notify import queue_alert
from service.settings import Settings

__all__ = ["NO_DATA_SINCE_ENROLMENT", "AlertWatch", "check_enrolments", "remind_overdue"]

NO_DATA_SINCE_ENROLMENT = "NO_DATA_SINCE_ENROLMENT"
_NO_DATA_MESSAGE = "No data since enrolment: is the hub set up?"
# Tunable default: enrolments change slowly; looking every 5 minutes costs one query.
_ENROLMENT_CHECK_EVERY = timedelta(minutes=5)

# Whether patient ``p`` ever sent a sample: one index probe per device and sample table (each
# table's primary key starts with device_id).
_HAS_SAMPLES = sql.SQL(
    "EXISTS (SELECT 1 FROM devices d WHERE d.patient_id = p.id AND ("
    " EXISTS (SELECT 1 FROM hr_samples s WHERE s.device_id = d.id)"
    " OR EXISTS (SELECT 1 FROM step_samples s WHERE s.device_id = d.id)"
    " OR EXISTS (SELECT 1 FROM cadence_samples s WHERE s.device_id = d.id)"
    " OR EXISTS (SELECT 1 FROM bike_samples s WHERE s.device_id = d.id)))"
)


async def remind_overdue(
    conn: AsyncConnection[Any], *, now: datetime, ack_timeout_s: int
) -> list[int]:
    """Mark urgent alerts unacknowledged for ``ack_timeout_s`` as overdue; queue one reminder each.

    Returns the reminder delivery ids (due at once). Each alert is reminded about only once.
    """
    cur = await conn.execute(
        "UPDATE alerts SET reminded_at = %(now)s WHERE severity = 'urgent'"
        " AND reminded_at IS NULL AND state IN ('open', 'cleared')"
        " AND urgent_since <= %(now)s - make_interval(secs => %(t)s) RETURNING id, team_id",
        {"now": now, "t": ack_timeout_s},
    )
    ids: list[int] = []
    for alert_id, team_id in await cur.fetchall():
        ids += await queue_alert(
            conn,
            alert_id=alert_id,
            team_id=team_id,
            digest=False,
            digest_interval_s=DEFAULT_DIGEST_INTERVAL_S,
            reminder=True,
        )
    return ids


async def check_enrolments(
    conn: AsyncConnection[Any],
    *,
    now: datetime,
    no_data_after_days: int,
    digest_interval_s: int,
) -> list[int]:
    """Raise "no data since enrolment" where due, clear it where data arrived.

    The alert's day is the patient-local day of the first device's enrolment. Raised once per
    patient: a patient with any such alert (in any state) is not looked at again. Returns urgent
    delivery ids (none: the alert is a warning, batched into the digest).
    """
    cur = await conn.execute(
        sql.SQL(
            "SELECT p.id, p.tz, min(d.created_at) FROM patients p"
            " JOIN devices d ON d.patient_id = p.id"
            " WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.patient_id = p.id AND a.rule = %(r)s)"
            " AND NOT {has_samples} GROUP BY p.id, p.tz"
            " HAVING min(d.created_at) <= %(now)s - make_interval(days => %(n)s)"
        ).format(has_samples=_HAS_SAMPLES),
        {"r": NO_DATA_SINCE_ENROLMENT, "now": now, "n": no_data_after_days},
    )
    due: list[tuple[UUID, str, datetime]] = await cur.fetchall()
    urgent: list[int] = []
    for patient_id, tz, enrolled in due:
        async with conn.transaction():
            target = await alert_target(conn, patient_id)
            if target is None:
                continue
            urgent += await raise_alert(
                conn,
                target,
                rule=NO_DATA_SINCE_ENROLMENT,
                source="monitoring",
                severity="warning",
                day=enrolled.astimezone(ZoneInfo(tz)).date(),
                message=_NO_DATA_MESSAGE,
                digest_interval_s=digest_interval_s,
            )
    cur = await conn.execute(
        sql.SQL(
            "SELECT a.id FROM alerts a JOIN patients p ON p.id = a.patient_id"
            " WHERE a.rule = %s AND a.state IN ('open', 'acknowledged') AND {has_samples}"
        ).format(has_samples=_HAS_SAMPLES),
        (NO_DATA_SINCE_ENROLMENT,),
    )
    for (alert_id,) in await cur.fetchall():
        async with conn.transaction():
            alert = await get_alert(conn, alert_id)
            await lock_patient(conn, alert.patient_id)
            tz_cur = await conn.execute(
                "SELECT tz FROM patients WHERE id = %s", (alert.patient_id,)
            )
            row = await tz_cur.fetchone()
            assert row is not None
            today = now.astimezone(ZoneInfo(row[0])).date()
            await clear_episode(conn, alert, cleared_on=max(today, alert.last_day))
    return urgent


class AlertWatch:
    """The periodic checks of :mod:`service.alerts` for the notifier's loop.

    Call it with a connection and the current time; it returns delivery ids to send right away.
    Overdue reminders are looked for on every call, enrolments every few minutes.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._enrolments_checked: datetime | None = None

    async def __call__(self, conn: AsyncConnection[Any], now: datetime) -> Sequence[int]:
        async with conn.transaction():
            ids = await remind_overdue(
                conn, now=now, ack_timeout_s=self._settings.alert_ack_timeout_s
            )
        last = self._enrolments_checked
        if last is None or now - last >= _ENROLMENT_CHECK_EVERY or now < last:
            self._enrolments_checked = now
            ids += await check_enrolments(
                conn,
                now=now,
                no_data_after_days=self._settings.alert_no_data_after_enrolment_days,
                digest_interval_s=self._settings.notify_digest_interval_s,
            )
        return ids
