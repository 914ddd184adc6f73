"""Baselines entered by the care team, kept with their history (migration 0020)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row

import analysis

__all__ = ["BaselineEntry", "baseline_history", "entered_baseline", "set_baseline"]


@dataclass(frozen=True)
class BaselineEntry:
    """One entry of a patient's baseline history (``steps_per_day`` ``None``: withdrawn)."""

    id: int
    steps_per_day: int | None
    source: str
    entered_by: UUID | None
    entered_at: datetime


async def set_baseline(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    steps_per_day: int | None,
    source: str,
    by: UUID | None,
) -> BaselineEntry:
    """Record a new baseline entry (the newest is in force; ``None`` withdraws the entered one)."""
    async with conn.cursor(row_factory=class_row(BaselineEntry)) as cur:
        await cur.execute(
            "INSERT INTO patient_baselines (patient_id, steps_per_day, source, entered_by)"
            " VALUES (%s, %s, %s, %s) RETURNING id, steps_per_day, source, entered_by, entered_at",
            (patient_id, steps_per_day, source, by),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def baseline_history(conn: AsyncConnection[Any], patient_id: UUID) -> list[BaselineEntry]:
    """Every entry for the patient, newest first."""
    async with conn.cursor(row_factory=class_row(BaselineEntry)) as cur:
        await cur.execute(
            "SELECT id, steps_per_day, source, entered_by, entered_at FROM patient_baselines"
            " WHERE patient_id = %s ORDER BY id DESC",
            (patient_id,),
        )
        return await cur.fetchall()


async def entered_baseline(
    conn: AsyncConnection[Any], patient_ids: list[UUID]
) -> dict[UUID, analysis.Baseline]:
    """The entered baseline in force per patient (patients without one, or withdrawn, absent)."""
    cur = await conn.execute(
        "SELECT DISTINCT ON (patient_id) patient_id, steps_per_day, source"
        " FROM patient_baselines WHERE patient_id = ANY(%s) ORDER BY patient_id, id DESC",
        (patient_ids,),
    )
    return {
        pid: analysis.Baseline(steps_per_day=float(steps), kind="entered", source=source)
        for pid, steps, source in await cur.fetchall()
        if steps is not None
    }
