"""Recompute one patient-day: load its samples, run the analysis, store the summary."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import orjson
from psycopg import AsyncConnection, sql

import analysis
from service.worker.columns import copy_columns
from service.worker.days import DayBounds, day_bounds

__all__ = ["DaySamples", "load_day_samples", "recompute_day"]

# Steps samples cover (t − interval_s, t] with interval_s ≤ 3600 (WIRE_FORMAT.md), so samples up
# to an hour after the day's end can still hold steps of its last minutes.
_AFTER_MARGIN = timedelta(hours=1)

DaySamples = dict[str, np.ndarray]

_QUERIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "hr": ("SELECT t, bpm FROM hr_samples", [("t", "timestamptz"), ("bpm", "int2")]),
    "steps": (
        "SELECT t, steps, interval_s FROM step_samples",
        [("t", "timestamptz"), ("steps", "int4"), ("interval_s", "int4")],
    ),
    "cadence": (
        "SELECT t, spm, coalesce(running, false) FROM cadence_samples",
        [("t", "timestamptz"), ("spm", "float4"), ("running", "bool")],
    ),
    "bike": (
        # -1 stands for "no power reported" (power_w is optional); mapped to NaN below.
        "SELECT t, rpm, coalesce(power_w, -1)::int2 FROM bike_samples",
        [("t", "timestamptz"), ("rpm", "float4"), ("power_w", "int2")],
    ),
}


async def load_day_samples(
    conn: AsyncConnection[Any], *, patient_id: UUID, bounds: DayBounds
) -> dict[str, DaySamples]:
    """The samples of every device of ``patient_id`` that can touch ``bounds``, as arrays."""
    cur = await conn.execute("SELECT id FROM devices WHERE patient_id = %s", (patient_id,))
    device_ids = [row[0] for row in await cur.fetchall()]
    out: dict[str, DaySamples] = {}
    for key, (select, columns) in _QUERIES.items():
        query = sql.SQL("{} WHERE device_id = ANY({}) AND t >= {} AND t < {} ORDER BY t").format(
            sql.SQL(select),
            sql.Literal(device_ids),
            sql.Literal(bounds.start),
            sql.Literal(bounds.end + _AFTER_MARGIN),
        )
        out[key] = await copy_columns(conn, query, columns)
    power = out["bike"]["power_w"]
    power[power < 0] = np.nan
    return out


def build_grid(samples: dict[str, DaySamples], bounds: DayBounds) -> analysis.MinuteGrid:
    hr, steps, cadence, bike = samples["hr"], samples["steps"], samples["cadence"], samples["bike"]
    return analysis.build_minute_grid(
        day_start_s=bounds.start_s,
        n_minutes=bounds.n_minutes,
        hr_t_s=hr["t"],
        hr_bpm=hr["bpm"],
        steps_end_t_s=steps["t"],
        steps_count=steps["steps"],
        steps_interval_s=steps["interval_s"],
        cadence_t_s=cadence["t"],
        cadence_spm=cadence["spm"],
        cadence_running=cadence["running"].astype(bool),
        bike_t_s=bike["t"],
        bike_rpm=bike["rpm"],
        bike_power_w=bike["power_w"],
    )


def _summary(day: date, stats: analysis.BasicDayStats) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "steps": stats.steps,
        "wear_minutes": stats.wear_minutes,
        "active_minutes": stats.active_minutes,
        "heart_rate": {"min": stats.hr_min_bpm, "avg": stats.hr_avg_bpm, "max": stats.hr_max_bpm},
    }


# Version of the summary this module produces; bumped whenever its rules change.
SUMMARY_VERSION = "basic-1"


async def recompute_day(
    conn: AsyncConnection[Any], *, patient_id: UUID, tz: str, day: date
) -> dict[str, Any]:
    """Recompute and store the summary of ``patient_id``'s local ``day``; return it."""
    bounds = day_bounds(day, tz)
    samples = await load_day_samples(conn, patient_id=patient_id, bounds=bounds)
    grid = build_grid(samples, bounds)
    stats = analysis.basic_day_stats(grid)
    summary = _summary(day, stats)
    # Tunable default: the foundation judges nothing yet; "unjudged" until the plan engine runs.
    status = "unjudged"
    await conn.execute(
        "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
        " status, summary, analysis_version) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
        " ON CONFLICT (patient_id, day) DO UPDATE SET steps = EXCLUDED.steps,"
        " wear_minutes = EXCLUDED.wear_minutes, active_minutes = EXCLUDED.active_minutes,"
        " status = EXCLUDED.status, summary = EXCLUDED.summary,"
        " analysis_version = EXCLUDED.analysis_version, computed_at = now()",
        (
            patient_id,
            day,
            stats.steps,
            stats.wear_minutes,
            stats.active_minutes,
            status,
            orjson.dumps(summary).decode(),
            SUMMARY_VERSION,
        ),
    )
    return summary
