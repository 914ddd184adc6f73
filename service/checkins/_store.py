"""Storing check-ins, raising their alerts, and reading them back per day."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import orjson
from psycopg import AsyncConnection

from service.alerts import alert_target, raise_alert
from service.checkins._model import CHECKIN_FIELDS, CheckinIn, CheckinRecord
from service.errors import NotFoundError
from service.patients.store import PatientRecord

__all__ = [
    "CHECKIN_JSON_SQL",
    "CheckinResult",
    "checkins_for_days",
    "record_checkin",
    "self_logged_minutes",
]

# Activities that need the surgeon's clearance first (DESIGN.md: swimming after 4–6 weeks once
# the wound is healed, elliptical only once cleared).
_NEEDS_CLEARANCE = ("swimming", "elliptical")


class CheckinResult:
    """A stored check-in: its id, the day it counts for, and urgent notifications to send."""

    def __init__(self, *, checkin_id: int, day: date, urgent_delivery_ids: list[int]) -> None:
        self.checkin_id = checkin_id
        self.day = day
        self.urgent_delivery_ids = urgent_delivery_ids


async def record_checkin(
    conn: AsyncConnection[Any],
    patient: PatientRecord,
    checkin: CheckinIn,
    *,
    by: UUID | None,
    digest_interval_s: int,
    now: datetime | None = None,
) -> CheckinResult:
    """Store ``checkin`` and raise its alerts in one transaction.

    A red flag opens (or extends) an urgent ``RED_FLAG_SYMPTOM`` episode; swimming or elliptical
    logged before the day of its clearance opens a ``ACTIVITY_BEFORE_CLEARANCE`` warning.
    """
    day = checkin.day or (now or datetime.now(UTC)).astimezone(patient.zone).date()
    activities = [a.model_dump() for a in checkin.activities]
    async with conn.transaction():
        target = await alert_target(conn, patient.id)
        if target is None:
            raise NotFoundError(f"no patient {patient.id}")
        cur = await conn.execute(
            "INSERT INTO checkins (patient_id, day, pain_0_10, stretching_sessions,"
            " strength_session, activities, red_flags, note, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id",
            (
                patient.id,
                day,
                checkin.pain_0_10,
                checkin.stretching_sessions,
                checkin.strength_session,
                orjson.dumps(activities).decode(),
                list(checkin.red_flags),
                checkin.note,
                by,
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        urgent: list[int] = []
        if checkin.red_flags:
            urgent += await raise_alert(
                conn,
                target,
                rule="RED_FLAG_SYMPTOM",
                source="checkin",
                severity="urgent",
                day=day,
                message="Red-flag symptoms reported: "
                + ", ".join(f.replace("_", " ") for f in sorted(set(checkin.red_flags))),
                digest_interval_s=digest_interval_s,
            )
        early = sorted(
            {
                a.kind
                for a in checkin.activities
                if a.kind in _NEEDS_CLEARANCE
                and ((cleared := patient.cleared_on(a.kind)) is None or cleared > day)
            }
        )
        if early:
            urgent += await raise_alert(
                conn,
                target,
                rule="ACTIVITY_BEFORE_CLEARANCE",
                source="checkin",
                severity="warning",
                day=day,
                message="Self-logged before clearance: " + ", ".join(early),
                digest_interval_s=digest_interval_s,
            )
    return CheckinResult(checkin_id=row[0], day=day, urgent_delivery_ids=urgent)


# One check-in as JSON, in SQL: the fields of CheckinRecord, for the days route's fast path
# (service.summaries), which splices check-ins into stored summary text without decoding them.
# ``created_at`` as CheckinRecord serialises it: UTC to the second.
CHECKIN_JSON_SQL = (
    "jsonb_build_object('id', c.id, 'day', c.day, 'pain_0_10', c.pain_0_10,"
    " 'stretching_sessions', c.stretching_sessions, 'strength_session', c.strength_session,"
    " 'activities', c.activities, 'red_flags', to_jsonb(c.red_flags), 'note', c.note,"
    " 'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
)


async def checkins_for_days(
    conn: AsyncConnection[Any], *, patient_id: UUID, first: date, last: date
) -> dict[date, list[CheckinRecord]]:
    """The patient's check-ins of ``first`` … ``last`` (inclusive) by day, oldest first."""
    cur = await conn.execute(
        "SELECT id, day, pain_0_10, stretching_sessions, strength_session, activities, red_flags,"
        " note, date_trunc('second', created_at) FROM checkins"
        " WHERE patient_id = %s AND day BETWEEN %s AND %s ORDER BY day, id",
        (patient_id, first, last),
    )
    out: dict[date, list[CheckinRecord]] = defaultdict(list)
    for row in await cur.fetchall():
        values = dict(zip(CHECKIN_FIELDS, row, strict=True))
        values["created_at"] = values["created_at"].astimezone(UTC)
        record = CheckinRecord(**values)
        out[record.day].append(record)
    return dict(out)


async def self_logged_minutes(
    conn: AsyncConnection[Any], *, patient_id: UUID, first: date, last: date
) -> dict[date, dict[str, int]]:
    """Self-logged activity minutes per day and kind (``swimming``, ``elliptical``, ``other``).

    For the analysis worker: aerobic minutes the band could not see, to count towards the day's
    target if the plan engine takes them.
    """
    cur = await conn.execute(
        "SELECT c.day, a->>'kind', sum((a->>'minutes')::int)"
        " FROM checkins c, jsonb_array_elements(c.activities) a"
        " WHERE c.patient_id = %s AND c.day BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2",
        (patient_id, first, last),
    )
    out: dict[date, dict[str, int]] = defaultdict(dict)
    for day, kind, minutes in await cur.fetchall():
        out[day][kind] = int(minutes)
    return dict(out)
