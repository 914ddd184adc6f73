"""What the views read: one patient's days, heart rate and devices.

Queries go through the same stores as the API (patients, summaries, alerts, check-ins); the page routes
apply the same access rule (:func:`service.patients.access.check_patient_access`) before calling
these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.patients import PatientRecord
from service.summaries import summary_documents

__all__ = [
    "DayPoint",
    "DeviceStatus",
    "device_status",
    "hr_minutes",
    "local_today",
    "summaries",
]


def local_today(patient: PatientRecord, now: datetime | None = None) -> date:
    """The patient's local calendar day at ``now`` (default: the wall clock)."""
    return (now or datetime.now(UTC)).astimezone(patient.zone).date()


@dataclass(frozen=True, kw_only=True)
class DayPoint:
    """One day of a patient's chart (from the stored daily summary)."""

    day: date
    summary: dict[str, Any]

    @property
    def aerobic_min(self) -> int:
        return int(self.summary.get("aerobic_minutes") or 0)

    def by_kind(self, kind: str) -> int:
        return int((self.summary.get("aerobic_minutes_by_kind") or {}).get(kind) or 0)

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "insufficient_data"))

    @property
    def targets(self) -> dict[str, Any]:
        return dict(self.summary.get("targets") or {})

    @property
    def heart_rate(self) -> dict[str, Any]:
        return dict(self.summary.get("heart_rate") or {})

    @property
    def day_start_s(self) -> int:
        """The day's start, epoch s (the document's ``day_start``, ISO-8601 UTC)."""
        return _epoch_s(self.summary.get("day_start"))

    @property
    def n_minutes(self) -> int:
        return int(self.summary.get("n_minutes") or 1440)

    @property
    def sessions(self) -> list[dict[str, Any]]:
        """The day's sessions, each with its ``start_s`` and ``end_s`` (epoch s) beside the
        document's ISO-8601 ``start`` and ``end``."""
        return [
            {**s, "start_s": _epoch_s(s.get("start")), "end_s": _epoch_s(s.get("end"))}
            for s in self.summary.get("sessions") or ()
        ]


def _epoch_s(text: object) -> int:
    """Epoch seconds of an ISO-8601 time of a stored summary (0 without one)."""
    return int(datetime.fromisoformat(text).timestamp()) if isinstance(text, str) else 0


async def summaries(
    conn: AsyncConnection[Any], *, patient_ids: list[UUID], first: date, last: date
) -> dict[UUID, list[DayPoint]]:
    """Stored daily summaries of ``first`` … ``last`` per patient, oldest first."""
    documents = await summary_documents(conn, patient_ids=patient_ids, first=first, last=last)
    return {
        pid: [DayPoint(day=day, summary=summary) for day, summary in days]
        for pid, days in documents.items()
    }


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
