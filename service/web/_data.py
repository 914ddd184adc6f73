"""What the views read: a team's patients ranked by need, and one patient's days.

Queries go through the same stores as the API (patients, alerts, check-ins); the page routes
apply the same access rule (:func:`service.patients.access.check_patient_access`) before calling
these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.patients import PatientRecord

__all__ = [
    "SILENT_AFTER",
    "SPARK_DAYS",
    "DayPoint",
    "PatientRow",
    "hr_minutes",
    "last_data",
    "local_today",
    "need_rank",
    "summaries",
    "team_rows",
]

# Tunable default: the list shows the last 14 days as a sparkline (issue 6).
SPARK_DAYS = 14
# Tunable default: a hub or band without data for 24 h stands out as silent.
SILENT_AFTER = timedelta(hours=24)

# Need tiers, most urgent first (issue 6: urgent alerts, open warnings, below target, on track).
_TIERS = ("urgent", "warning", "below", "no_data", "on_track")


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


@dataclass(frozen=True, kw_only=True)
class PatientRow:
    """One row of the care team's list."""

    patient: PatientRecord
    today: date
    days: tuple[DayPoint, ...]
    open_alerts: dict[str, int]
    acknowledged_alerts: int
    last_data_at: datetime | None

    @property
    def days_since_surgery(self) -> int:
        return (self.today - self.patient.surgery_date).days

    @property
    def today_point(self) -> DayPoint | None:
        return next((d for d in self.days if d.day == self.today), None)

    @property
    def latest_judged(self) -> DayPoint | None:
        return next((d for d in reversed(self.days) if d.status != "insufficient_data"), None)

    @property
    def tier(self) -> str:
        """``urgent`` | ``warning`` | ``below`` | ``no_data`` | ``on_track``.

        Only open alerts raise the tier: an acknowledged one is being handled.
        """
        if self.open_alerts.get("urgent"):
            return "urgent"
        if self.open_alerts.get("warning"):
            return "warning"
        latest = self.latest_judged
        if latest is None:
            return "no_data"
        return "below" if latest.status == "below" else "on_track"

    def silent(self, now: datetime) -> bool:
        """No data from the hub or band for :data:`SILENT_AFTER`."""
        return self.last_data_at is None or now - self.last_data_at > SILENT_AFTER


def need_rank(row: PatientRow) -> tuple[int, str]:
    """Sort key: by need tier, then by name."""
    return _TIERS.index(row.tier), row.patient.display_name.lower()


async def summaries(
    conn: AsyncConnection[Any], *, patient_ids: list[UUID], first: date, last: date
) -> dict[UUID, list[DayPoint]]:
    """Stored daily summaries of ``first`` … ``last`` per patient, oldest first."""
    cur = await conn.execute(
        "SELECT patient_id, day, summary FROM daily_summaries"
        " WHERE patient_id = ANY(%s) AND day BETWEEN %s AND %s ORDER BY patient_id, day",
        (patient_ids, first, last),
    )
    out: dict[UUID, list[DayPoint]] = {pid: [] for pid in patient_ids}
    for pid, day, summary in await cur.fetchall():
        out[pid].append(DayPoint(day=day, summary=summary))
    return out


async def last_data(conn: AsyncConnection[Any], patient_ids: list[UUID]) -> dict[UUID, datetime]:
    """When each patient's hub last delivered data (the devices' ``last_seen_at``)."""
    cur = await conn.execute(
        "SELECT patient_id, max(last_seen_at) FROM devices"
        " WHERE patient_id = ANY(%s) AND revoked_at IS NULL GROUP BY patient_id",
        (patient_ids,),
    )
    return {pid: at for pid, at in await cur.fetchall() if at is not None}


async def _alert_counts(
    conn: AsyncConnection[Any], patient_ids: list[UUID]
) -> tuple[dict[UUID, dict[str, int]], dict[UUID, int]]:
    """Open alerts per patient and severity, and acknowledged (still unresolved) ones."""
    cur = await conn.execute(
        "SELECT patient_id, state, severity, count(*) FROM alerts"
        " WHERE patient_id = ANY(%s) AND state <> 'resolved' GROUP BY 1, 2, 3",
        (patient_ids,),
    )
    opened: dict[UUID, dict[str, int]] = {pid: {} for pid in patient_ids}
    acked: dict[UUID, int] = dict.fromkeys(patient_ids, 0)
    for pid, state, severity, n in await cur.fetchall():
        if state == "open":
            opened[pid][severity] = int(n)
        else:
            acked[pid] += int(n)
    return opened, acked


async def team_rows(
    conn: AsyncConnection[Any], patients: list[PatientRecord], *, now: datetime
) -> list[PatientRow]:
    """The list rows of ``patients``, sorted by need."""
    ids = [p.id for p in patients]
    if not ids:
        return []
    todays = {p.id: local_today(p, now) for p in patients}
    last = max(todays.values())
    days = await summaries(
        conn, patient_ids=ids, first=min(todays.values()) - timedelta(days=SPARK_DAYS), last=last
    )
    alerts, acked = await _alert_counts(conn, ids)
    seen = await last_data(conn, ids)
    rows = [
        PatientRow(
            patient=p,
            today=todays[p.id],
            days=tuple(d for d in days[p.id] if todays[p.id] - timedelta(days=SPARK_DAYS) < d.day),
            open_alerts=alerts[p.id],
            acknowledged_alerts=acked[p.id],
            last_data_at=seen.get(p.id),
        )
        for p in patients
    ]
    return sorted(rows, key=need_rank)


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
