"""What the views read besides the stores: a patient's local today, heart rate and devices.

The days themselves are :class:`analysis.DaySummary` objects read through
:func:`service.summaries.stored_summaries` (the care team's list: their
:class:`~service.summaries.DayBrief`); the page routes apply the same access rule
(:func:`service.patients.access.check_patient_access`) before calling these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.patients import PatientRecord

__all__ = [
    "DeviceStatus",
    "device_status",
    "hr_minutes",
    "local_today",
]


def local_today(patient: PatientRecord, now: datetime | None = None) -> date:
    """The patient's local calendar day at ``now`` (default: the wall clock)."""
    return (now or datetime.now(UTC)).astimezone(patient.zone).date()


@dataclass(frozen=True, kw_only=True)
class DeviceStatus:
    """A patient's hubs taken together: newest sample, last contact, battery of the latest."""

    last_sample_at: datetime | None
    last_contact_at: datetime | None
    battery_pct: int | None
    devices: int


async def device_status(
    conn: AsyncConnection[Any], patient_ids: list[UUID]
) -> dict[UUID, DeviceStatus]:
    """Per patient with a live device: the newest sample (``devices.last_sample_at``), the
    hub's last contact (``last_seen_at``) and the battery reported with that contact."""
    cur = await conn.execute(
        "SELECT patient_id, max(last_sample_at), max(last_seen_at),"
        " (array_agg(battery_pct ORDER BY last_seen_at DESC NULLS LAST))[1], count(*)"
        " FROM devices WHERE patient_id = ANY(%s) AND revoked_at IS NULL GROUP BY patient_id",
        (patient_ids,),
    )
    return {
        pid: DeviceStatus(
            last_sample_at=sample, last_contact_at=contact, battery_pct=battery, devices=int(n)
        )
        for pid, sample, contact, battery, n in await cur.fetchall()
    }


async def hr_minutes(
    conn: AsyncConnection[Any], *, patient_id: UUID, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """Mean heart rate per minute of ``start`` … ``end`` from all of the patient's devices."""
    cur = await conn.execute(
        "SELECT date_trunc('minute', h.t) AS m, avg(h.bpm)::float8 FROM hr_samples h"
        " JOIN devices d ON d.id = h.device_id"
        " WHERE d.patient_id = %s AND h.t >= %s AND h.t < %s GROUP BY m ORDER BY m",
        (patient_id, start, end),
    )
    return [(m, float(v)) for m, v in await cur.fetchall()]
