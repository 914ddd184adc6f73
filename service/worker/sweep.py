"""Queue the calendar days that have no summary yet, and explicit backfills.

The analysis judges every calendar day, also days without a single sample: a band left in a
drawer is what ``NO_DATA`` and the below-target streak exist to catch. Ingestion only queues days
that received data, so the worker sweeps for missing days from the patient's first day of
monitoring (the surgery date, or the first summarised or enrolled day if later) to today.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

__all__ = ["queue_days", "queue_missing_days"]

# Tunable default: the sweep looks back at most a year; older gaps are backfilled explicitly
# with `rehab analyze`.
_MAX_SWEEP_DAYS = 366


async def queue_missing_days(conn: AsyncConnection[Any]) -> int:
    """Queue every monitored day up to each patient's local today that has no summary."""
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT p.id, g.day::date FROM patients p"
        " CROSS JOIN LATERAL (SELECT"
        "   (SELECT min(created_at AT TIME ZONE p.tz)::date FROM devices WHERE patient_id = p.id) AS enrolled,"
        "   (SELECT min(day) FROM daily_summaries WHERE patient_id = p.id) AS first_summary,"
        "   (now() AT TIME ZONE p.tz)::date AS today) f"
        " CROSS JOIN LATERAL generate_series("
        "   greatest(p.surgery_date, least(f.enrolled, f.first_summary), f.today - %s),"
        "   f.today, interval '1 day') AS g(day)"
        " WHERE f.enrolled IS NOT NULL"
        "   AND NOT EXISTS (SELECT 1 FROM daily_summaries s WHERE s.patient_id = p.id AND s.day = g.day::date)"
        " ON CONFLICT (patient_id, day) DO NOTHING",
        (_MAX_SWEEP_DAYS,),
    )
    return cur.rowcount


async def queue_days(
    conn: AsyncConnection[Any], *, patient_id: UUID, first: date, last: date
) -> int:
    """Queue ``first`` … ``last`` of one patient for recomputation; return how many days."""
    cur = await conn.execute(
        "INSERT INTO dirty_days (patient_id, day)"
        " SELECT %s, g::date FROM generate_series(%s::date, %s::date, interval '1 day') g"
        " ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now()",
        (patient_id, first, last),
    )
    return cur.rowcount
