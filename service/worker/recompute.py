"""Recompute one patient-day: load its minute rollups and declared activities, run the analysis,
store the summary."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts import on_day_summarised
from service.summaries import store_summary
from service.worker.days import DayBounds, day_bounds
from service.worker.options import DEFAULT_OPTIONS, WorkerOptions
from service.worker.profile import history_window, load_history, load_profile
from service.worker.samples import DayMinutes, build_grid, load_day_activities, load_day_samples

__all__ = ["ComputedDay", "compute_day", "load_day_samples", "recompute_day", "store_day"]

_THRESHOLDS = analysis.load_thresholds()
_PLAN = analysis.load_plan()
# Minutes of the neighbouring days the session detector looks at, so that a session crossing
# midnight is whole (thresholds.json, sessions.neighbour_context_min).
_CONTEXT = timedelta(minutes=_THRESHOLDS.sessions.neighbour_context_min)


@dataclass(frozen=True)
class ComputedDay:
    """A day's analysis, not stored yet."""

    summary: analysis.DaySummary


async def compute_day(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    tz: str,
    day: date,
    day_complete: bool = True,
) -> ComputedDay:
    """Load ``patient_id``'s local ``day`` and run the analysis on it; reads only, locks nothing.

    ``day_complete`` is False while the day has not ended in the patient's zone: the summary is
    then ``in_progress`` and only the rules that can only grow during a day run.
    """
    bounds = day_bounds(day, tz)
    samples = await load_day_samples(conn, patient_id=patient_id, bounds=bounds)
    activities = await load_day_activities(conn, patient_id=patient_id, bounds=bounds)
    patient = await load_profile(conn, patient_id)
    first, last = history_window(day)
    history = await load_history(conn, patient_id=patient_id, first=first, last=last)
    # The CPU work (a full day's grid and analysis: about 10 ms of numpy and Python) runs in a
    # thread, so that the event loop of ``rehab serve`` (whose built-in worker this is) goes on
    # serving requests meanwhile; numpy releases the GIL in parts of it. The analysis is pure
    # functions of frozen inputs (no module-level mutable state; np.errstate is context-local).
    summary = await asyncio.to_thread(
        _analyse,
        samples,
        bounds=bounds,
        day=day,
        patient=patient,
        history=history,
        activities=activities,
        day_complete=day_complete,
    )
    return ComputedDay(summary=summary)


def _analyse(
    samples: DayMinutes,
    *,
    bounds: DayBounds,
    day: date,
    patient: analysis.PatientProfile,
    history: list[analysis.DaySummary],
    activities: tuple[analysis.DeclaredActivity, ...],
    day_complete: bool,
) -> analysis.DaySummary:
    """The grids of the day and its context windows, and the analysis of the day (no I/O)."""
    context_min = int(_CONTEXT.total_seconds() // 60)
    grid = build_grid(samples, start_s=bounds.start_s, n_minutes=bounds.n_minutes)
    previous_grid = build_grid(
        samples, start_s=bounds.start_s - context_min * 60, n_minutes=context_min
    )
    next_grid = build_grid(samples, start_s=int(bounds.end.timestamp()), n_minutes=context_min)
    return analysis.analyse_day(
        grid=grid,
        day=day,
        patient=patient,
        plan=_PLAN,
        history=history,
        thresholds=_THRESHOLDS,
        previous_grid=previous_grid,
        next_grid=next_grid,
        day_complete=day_complete,
        activities=activities,
    )


async def store_day(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    day: date,
    computed: ComputedDay,
    options: WorkerOptions = DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Store a computed day's summary and apply its flags to the patient's alerts; return the
    stored document.

    When the stored summary changes and the next day is already summarised, the next day is
    queued too (after this day's queue row, in day order): its multi-day rules (streaks, ramp,
    resting-HR baseline) read this one.
    """
    document, changed = await store_summary(
        conn, patient_id=patient_id, day=day, summary=computed.summary
    )
    await on_day_summarised(
        conn,
        patient_id=patient_id,
        day=day,
        summary=computed.summary,
        digest_interval_s=options.digest_interval_s,
        clear_days=options.alert_clear_days,
    )
    if changed:
        # Its input changed: a new generation, so that a worker computing it now does it again.
        await conn.execute(
            "INSERT INTO dirty_days (patient_id, day) SELECT patient_id, day FROM daily_summaries"
            " WHERE patient_id = %s AND day = %s"
            " ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now(), generation = DEFAULT",
            (patient_id, day + timedelta(days=1)),
        )
    return document


async def recompute_day(
    conn: AsyncConnection[Any],
    *,
    patient_id: UUID,
    tz: str,
    day: date,
    day_complete: bool = True,
    options: WorkerOptions = DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Recompute and store the summary of ``patient_id``'s local ``day``; return it.

    :func:`compute_day` then :func:`store_day`, for callers outside the worker's queue (the
    worker takes its queue row's lock between the two).
    """
    computed = await compute_day(
        conn, patient_id=patient_id, tz=tz, day=day, day_complete=day_complete
    )
    return await store_day(conn, patient_id=patient_id, day=day, computed=computed, options=options)
