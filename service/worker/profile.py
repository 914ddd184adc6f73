"""Load what the analysis needs about a patient: profile, plan override history, recent days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

import analysis
from service.summaries import load_summaries

__all__ = ["load_history", "load_profile"]

# analysis.analyse_day looks back three weeks for streaks, ramps and the resting-HR baseline.
HISTORY_DAYS = 21


async def load_profile(conn: AsyncConnection[Any], patient_id: UUID) -> analysis.PatientProfile:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT birth_year, surgery_type, approach, surgery_date, resting_hr_bpm, max_hr_bpm,"
        " hr_limit_bpm, beta_blocker, running_cleared_on, swimming_cleared_on,"
        " elliptical_cleared_on FROM patients WHERE id = %s",
        (patient_id,),
    )
    p = await cur.fetchone()
    assert p is not None, f"patient {patient_id} vanished"
    await cur.execute(
        "SELECT effective_from, aerobic_min_low, aerobic_min_high, max_session_min, hr_limit_bpm,"
        " running_cleared, swimming_cleared, elliptical_cleared, note"
        " FROM plan_overrides WHERE patient_id = %s ORDER BY effective_from, id",
        (patient_id,),
    )
    overrides = tuple(analysis.PlanOverride(**row) for row in await cur.fetchall())
    return analysis.PatientProfile(
        birth_year=p["birth_year"],
        surgery_type=p["surgery_type"],
        approach=p["approach"],
        surgery_date=p["surgery_date"],
        resting_hr_bpm=p["resting_hr_bpm"],
        max_hr_bpm=p["max_hr_bpm"],
        hr_limit_bpm=p["hr_limit_bpm"],
        beta_blocker=p["beta_blocker"],
        clearances=analysis.Clearances(
            running=p["running_cleared_on"],
            swimming=p["swimming_cleared_on"],
            elliptical=p["elliptical_cleared_on"],
        ),
        plan_overrides=overrides,
    )


async def load_history(
    conn: AsyncConnection[Any], *, patient_id: UUID, first: date, last: date
) -> list[analysis.DaySummary]:
    """Stored summaries of ``first`` … ``last`` (inclusive) as analysis objects."""
    return await load_summaries(conn, patient_id=patient_id, first=first, last=last)


def history_window(day: date) -> tuple[date, date]:
    return day - timedelta(days=HISTORY_DAYS), day - timedelta(days=1)
