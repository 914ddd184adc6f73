"""Load a patient-day for the analysis: minute rollups (what the worker reads) or raw samples.

The worker reads ``sample_minutes`` (migration 0018; maintained by ingest in the ingest
transaction): one row per minute of the day and its context window, summed over the patient's
devices and sensors in the query, at most 1,440 + 2 × 240 rows per 1,440-minute day instead of
86,400 heart-rate rows at 1 Hz. :func:`load_raw_samples` reads the raw samples as before; the grid
built from either is the same (tests/service/test_rollup_grid.py), and the benchmark times both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection, sql

import analysis
from service.worker.columns import fetch_columns
from service.worker.days import DayBounds

__all__ = [
    "DayMinutes",
    "build_grid",
    "build_grid_from_samples",
    "load_day_samples",
    "load_raw_samples",
]

# Minutes of the neighbouring days the session detector looks at, so that a session crossing
# midnight is whole (thresholds.json, sessions.neighbour_context_min).
CONTEXT = timedelta(minutes=analysis.load_thresholds().sessions.neighbour_context_min)
# Raw steps samples cover (t − interval_s, t] with interval_s ≤ 3600 (WIRE_FORMAT.md), so samples
# up to an hour after a window's end can still hold steps of its last minutes. (The rollups have
# spread them already.)
_STEPS_MARGIN = timedelta(hours=1)
_MINUTE_S = 60

DaySamples = dict[str, np.ndarray]


@dataclass(frozen=True)
class DayMinutes:
    """Per-minute sums of a window of minutes from ``start_s`` (epoch s, a whole minute)."""

    start_s: int
    n_minutes: int
    columns: dict[str, npt.NDArray[Any]]


# Per minute, over the patient's devices and sensors; NULL-free (fetch_columns needs that).
_MINUTES_SQL = (
    "SELECT minute, sum(hr_count)::int8, sum(hr_sum_bpm)::int8, coalesce(max(hr_max_bpm), 0)::int2,"
    " sum(steps_nstep)::int8, sum(cadence_count)::int8, sum(cadence_sum_spm), bool_or(running),"
    " sum(bike_rpm_count)::int8, sum(bike_rpm_sum), sum(bike_power_count)::int8,"
    " sum(bike_power_sum_w)::int8"
    " FROM sample_minutes WHERE device_id = ANY(%(devices)s)"
    " AND minute >= %(first)s AND minute < %(end)s GROUP BY minute"
)
_MINUTES_COLUMNS = [
    ("minute", "timestamptz"),
    ("hr_count", "int8"),
    ("hr_sum_bpm", "int8"),
    ("hr_max_bpm", "int2"),
    ("steps_nstep", "int8"),
    ("cadence_count", "int8"),
    ("cadence_sum_spm", "float8"),
    ("running", "bool"),
    ("bike_rpm_count", "int8"),
    ("bike_rpm_sum", "float8"),
    ("bike_power_count", "int8"),
    ("bike_power_sum_w", "int8"),
]


async def _device_ids(conn: AsyncConnection[Any], patient_id: UUID) -> list[UUID]:
    cur = await conn.execute("SELECT id FROM devices WHERE patient_id = %s", (patient_id,))
    return [row[0] for row in await cur.fetchall()]


async def load_day_samples(
    conn: AsyncConnection[Any], *, patient_id: UUID, bounds: DayBounds
) -> DayMinutes:
    """The minute rollups of ``patient_id``'s devices over ``bounds`` and its context window."""
    if bounds.start_s % _MINUTE_S:
        # Every zone offset since 2000 is a whole number of minutes (of quarter hours, in fact).
        raise ValueError(f"a day must start on a whole minute, got {bounds.start_s}")
    first, end = bounds.start - CONTEXT, bounds.end + CONTEXT
    first_s = bounds.start_s - int(CONTEXT.total_seconds())
    n = round((end - first).total_seconds()) // _MINUTE_S
    rows = await fetch_columns(
        conn,
        sql.SQL(_MINUTES_SQL),
        _MINUTES_COLUMNS,
        {"devices": await _device_ids(conn, patient_id), "first": first, "end": end},
    )
    index = np.rint((rows.pop("minute") - first_s) / _MINUTE_S).astype(np.int64)
    columns: dict[str, npt.NDArray[Any]] = {}
    for name, values in rows.items():
        dense = np.zeros(n, dtype=values.dtype)
        dense[index] = values
        columns[name] = dense
    return DayMinutes(start_s=first_s, n_minutes=n, columns=columns)


def build_grid(minutes: DayMinutes, *, start_s: int, n_minutes: int) -> analysis.MinuteGrid:
    """The minute grid of ``n_minutes`` from ``start_s``, inside the loaded window."""
    offset = (start_s - minutes.start_s) // _MINUTE_S
    if (
        (start_s - minutes.start_s) % _MINUTE_S
        or offset < 0
        or offset + n_minutes > minutes.n_minutes
    ):
        raise ValueError("the grid must be whole minutes inside the loaded window")
    c = {name: values[offset : offset + n_minutes] for name, values in minutes.columns.items()}
    return analysis.build_minute_grid_from_minutes(
        day_start_s=start_s,
        n_minutes=n_minutes,
        hr_count=c["hr_count"],
        hr_sum_bpm=c["hr_sum_bpm"],
        hr_max_bpm=c["hr_max_bpm"],
        steps=c["steps_nstep"] / analysis.NSTEPS_PER_STEP,
        cadence_count=c["cadence_count"],
        cadence_sum_spm=c["cadence_sum_spm"],
        running=c["running"],
        bike_rpm_count=c["bike_rpm_count"],
        bike_rpm_sum=c["bike_rpm_sum"],
        bike_power_count=c["bike_power_count"],
        bike_power_sum_w=c["bike_power_sum_w"],
    )


_RAW_QUERIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
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
        # -1 stands for "no power reported" (power_w is optional); NaN for the grid.
        "SELECT t, rpm, coalesce(power_w, -1)::int2 FROM bike_samples",
        [("t", "timestamptz"), ("rpm", "float4"), ("power_w", "int2")],
    ),
}


async def load_raw_samples(
    conn: AsyncConnection[Any], *, patient_id: UUID, bounds: DayBounds
) -> dict[str, DaySamples]:
    """Every raw sample of ``patient_id``'s devices that can touch ``bounds`` or its context."""
    params = {
        "devices": await _device_ids(conn, patient_id),
        "first": bounds.start - CONTEXT,
        "end": bounds.end + CONTEXT + _STEPS_MARGIN,
    }
    out: dict[str, DaySamples] = {}
    for key, (select, columns) in _RAW_QUERIES.items():
        # No ORDER BY: the grid bins samples by minute whatever their order, and sorting 100k rows
        # would spill to disk at the default work_mem.
        query = sql.SQL(
            select + " WHERE device_id = ANY(%(devices)s) AND t >= %(first)s AND t < %(end)s"
        )
        out[key] = await fetch_columns(conn, query, columns, params)
    return out


def build_grid_from_samples(
    samples: dict[str, DaySamples], *, start_s: int, n_minutes: int
) -> analysis.MinuteGrid:
    """The minute grid of ``n_minutes`` from ``start_s`` binned from raw samples."""
    hr, steps, cadence, bike = samples["hr"], samples["steps"], samples["cadence"], samples["bike"]
    power = np.where(bike["power_w"] < 0, np.nan, bike["power_w"].astype(np.float64))
    return analysis.build_minute_grid(
        day_start_s=start_s,
        n_minutes=n_minutes,
        hr_t_s=hr["t"],
        hr_bpm=hr["bpm"],
        steps_end_t_s=steps["t"],
        steps_count=steps["steps"],
        steps_interval_s=steps["interval_s"],
        cadence_t_s=cadence["t"],
        cadence_spm=cadence["spm"],
        cadence_running=cadence["running"],
        bike_t_s=bike["t"],
        bike_rpm=bike["rpm"],
        bike_power_w=power,
    )
