"""Days the worker set aside after failing, and the days waiting for a retry: for administrators.

A row of ``dirty_days`` with ``failed_at`` set failed ``attempts`` times in a row; its
``error_class`` is the exception's class name (never its message, which could quote data).
Queueing the day again (``rehab analyze`` over it, a change of the patient's settings) arms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row

__all__ = ["FailedDay", "QueueHealth", "list_failed_days", "queue_health"]


@dataclass(frozen=True)
class FailedDay:
    patient_id: UUID
    day: date
    attempts: int
    error_class: str | None
    failed_at: datetime | None  # None: still being retried
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class QueueHealth:
    queued: int  # days waiting to be computed (claimed ones included)
    retrying: int  # days that failed and wait for their next attempt
    failed: int  # days set aside


async def list_failed_days(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID | None = None,
    include_retrying: bool = False,
    limit: int = 100,
) -> list[FailedDay]:
    """Days set aside (and, with ``include_retrying``, days waiting for a retry), oldest first."""
    cur = conn.cursor(row_factory=class_row(FailedDay))
    await cur.execute(
        "SELECT patient_id, day, attempts, error_class, failed_at, next_attempt_at"
        " FROM dirty_days"
        " WHERE (failed_at IS NOT NULL OR (%(retrying)s AND attempts > 0))"
        "  AND (%(patient)s::uuid IS NULL OR patient_id = %(patient)s)"
        " ORDER BY patient_id, day LIMIT %(limit)s",
        {"retrying": include_retrying, "patient": patient_id, "limit": limit},
    )
    return await cur.fetchall()


async def queue_health(
    conn: AsyncConnection[Any], *, patient_id: UUID | None = None
) -> QueueHealth:
    """How many days are queued, waiting for a retry, and set aside."""
    cur = await conn.execute(
        "SELECT count(*) FILTER (WHERE failed_at IS NULL),"
        " count(*) FILTER (WHERE failed_at IS NULL AND attempts > 0),"
        " count(*) FILTER (WHERE failed_at IS NOT NULL)"
        " FROM dirty_days WHERE %(patient)s::uuid IS NULL OR patient_id = %(patient)s",
        {"patient": patient_id},
    )
    row = await cur.fetchone()
    assert row is not None
    return QueueHealth(queued=row[0], retrying=row[1], failed=row[2])
