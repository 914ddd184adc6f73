"""Queue the days that need a (new) judgement: days without a summary, days that have ended since
they were summarised in progress, summaries of an older analysis version, explicit backfills.

The analysis judges every calendar day from the patient's monitoring start
(``patients.monitoring_from``: the first day with a device or data), also days without a single
sample: a band left in a drawer is what ``NO_DATA`` and the below-target streak exist to catch.
Ingestion queues the days that received data and every unjudged day before them back to the
previous judged day (service/ingest/store.py), so gaps between data are judged with the data
after them. What is left for the sweep is the days after each patient's newest summary up to the
patient's today: it reads one index entry per patient, not every monitored day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis

__all__ = [
    "MonitoringPeriod",
    "monitoring_period",
    "queue_days",
    "queue_ended_days",
    "queue_missing_days",
    "queue_outdated_days",
]


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


async def queue_missing_days(conn: AsyncConnection[Any], *, now: datetime | None = None) -> int:
    """Queue the days after each patient's newest summary (or monitoring start) up to today."""
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT p.id, g.day::date FROM patients p"
        " CROSS JOIN LATERAL (SELECT (%(now)s::timestamptz AT TIME ZONE p.tz)::date AS today,"
        "   (SELECT s.day + 1 FROM daily_summaries s WHERE s.patient_id = p.id"
        "    ORDER BY s.day DESC LIMIT 1) AS after_newest) f"
        " CROSS JOIN LATERAL generate_series(greatest(p.monitoring_from, f.after_newest),"
        "   f.today, interval '1 day') AS g(day)"
        " WHERE p.monitoring_from IS NOT NULL"
        " ORDER BY 1, 2"
        " ON CONFLICT (patient_id, day) DO NOTHING",
        {"now": _now(now)},
    )
    return cur.rowcount


async def queue_ended_days(conn: AsyncConnection[Any], *, now: datetime | None = None) -> int:
    """Queue the days summarised while in progress that have ended in their patient's zone.

    Cheap enough for every worker round: the partial index of migration 0014 holds only the
    in-progress summaries (about one per active patient).
    """
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT s.patient_id, s.day FROM daily_summaries s JOIN patients p ON p.id = s.patient_id"
        " WHERE s.status = 'in_progress'"
        "   AND s.day < (%(now)s::timestamptz AT TIME ZONE p.tz)::date"
        " ORDER BY 1, 2"
        " ON CONFLICT (patient_id, day) DO NOTHING",
        {"now": _now(now)},
    )
    return cur.rowcount


async def queue_outdated_days(conn: AsyncConnection[Any]) -> int:
    """Queue every summary stored by another analysis version than this one.

    History rules read only summaries of the running version, so after an upgrade every day is
    judged again. A full scan of the summaries: run once when the worker starts.
    """
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT patient_id, day FROM daily_summaries WHERE analysis_version <> %s"
        " ORDER BY 1, 2"
        " ON CONFLICT (patient_id, day) DO NOTHING",
        (analysis.ANALYSIS_VERSION,),
    )
    return cur.rowcount


async def queue_days(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    first: date,
    last: date,
    now: datetime | None = None,
) -> int:
    """Queue ``first`` … ``last`` of one patient for recomputation; return how many days.

    Only days from the patient's monitoring start to the patient's today are queued: days before
    it are never judged, and days after today have not started. Days set aside after failing
    are armed again (their attempts start over).
    """
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT p.id, g::date FROM patients p, generate_series(greatest(%(first)s::date,"
        "   p.monitoring_from), least(%(last)s::date,"
        "   (%(now)s::timestamptz AT TIME ZONE p.tz)::date), interval '1 day') g"
        " WHERE p.id = %(patient)s AND p.monitoring_from IS NOT NULL"
        " ORDER BY 2"
        # An explicit request: a new generation, and a day set aside is armed again.
        " ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now(), generation = DEFAULT,"
        "  attempts = 0, next_attempt_at = NULL, failed_at = NULL, error_class = NULL",
        {"patient": patient_id, "first": first, "last": last, "now": _now(now)},
    )
    return cur.rowcount


@dataclass(frozen=True)
class MonitoringPeriod:
    """A patient's monitored days: ``first`` (monitoring start) … ``today`` (patient-local)."""

    first: date
    today: date


async def monitoring_period(
    conn: AsyncConnection[Any], *, patient_id: UUID, now: datetime | None = None
) -> MonitoringPeriod | None:
    """The patient's monitoring period; None before a device or data (or for no such patient)."""
    cur = await conn.execute(
        "SELECT monitoring_from, (%(now)s::timestamptz AT TIME ZONE tz)::date FROM patients"
        " WHERE id = %(patient)s AND monitoring_from IS NOT NULL",
        {"patient": patient_id, "now": _now(now)},
    )
    row = await cur.fetchone()
    if row is None:
        return None
    first, today = row
    # A monitoring start after today (a device created with a clock ahead) holds no day yet.
    return MonitoringPeriod(first=first, today=today) if first <= today else None
