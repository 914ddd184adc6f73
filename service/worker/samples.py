"""Load a patient-day for the analysis: minute rollups (what the worker reads) or raw samples.

The worker reads ``sample_minutes`` (migration 0018; maintained by ingest in the ingest
transaction): one row per device, sensor and minute of the day and its context window, at most
a few thousand rows per 1,440-minute day instead of 86,400 heart-rate rows at 1 Hz. Where two
sources (device, sensor) cover the same minute, :func:`analysis.choose_sources` keeps one per
kind and minute (the one with the most data; ties: the hub's own devices before imported
files, then device id, then sensor), so the band and an imported watch file never count a
walk's steps twice. :func:`load_raw_samples` reads the raw samples, rolled up per source in the
same way (:func:`service.ingest.rollup.minute_rows`); the grid built from either is the same
(tests/service/test_rollup_grid.py), and the benchmark times both. :func:`load_day_activities`
reads the activities imported files declared (a ride, a walk), which inform session detection.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection, sql

import analysis
from service.ingest.rollup import minute_rows
from service.ingest.validate import BikeColumns, CadenceColumns, HeartRateColumns, StepColumns
from service.worker.columns import fetch_columns
from service.worker.days import DayBounds

__all__ = [
    "DayMinutes",
    "build_grid",
    "build_grid_from_samples",
    "load_day_activities",
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


# One row per source (device, sensor) and minute; NULL-free (fetch_columns needs that). The
# source's rank is its device's place in ``devices`` (the tie order) × 256 + sensor.
_MINUTES_SQL = (
    "SELECT minute, ((array_position(%(devices)s::uuid[], device_id) - 1) * 256 + sensor)::int8,"
    " hr_count::int8, hr_sum_bpm, coalesce(hr_max_bpm, 0)::int2,"
    " steps_nstep, cadence_count::int8, cadence_sum_spm, running,"
    " bike_rpm_count::int8, bike_rpm_sum, bike_power_count::int8, bike_power_sum_w"
    " FROM sample_minutes WHERE device_id = ANY(%(devices)s)"
    " AND minute >= %(first)s AND minute < %(end)s"
)
_SENSORS_PER_DEVICE = 256  # sensor is 0 … 255 (migration 0018's CHECK)
_MINUTES_COLUMNS = [
    ("minute", "timestamptz"),
    ("source_rank", "int8"),
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
    """The patient's devices in tie order: the hub's own (never revoked) first, then by id.

    Imported files' devices are created revoked (service/imports/_pipeline.py)."""
    cur = await conn.execute(
        "SELECT id FROM devices WHERE patient_id = %s ORDER BY revoked_at IS NOT NULL, id",
        (patient_id,),
    )
    return [row[0] for row in await cur.fetchall()]


# Columns of each kind: the kind's rows come from the source chosen for that minute.
_KIND_COLUMNS = {
    "steps": ("steps_nstep",),
    "heart_rate": ("hr_count", "hr_sum_bpm", "hr_max_bpm"),
    "cadence": ("cadence_count", "cadence_sum_spm", "running"),
    "bike": ("bike_rpm_count", "bike_rpm_sum", "bike_power_count", "bike_power_sum_w"),
}


def _dense_minutes(
    rows: dict[str, npt.NDArray[Any]], *, first_s: int, n: int
) -> dict[str, npt.NDArray[Any]]:
    """Per-minute columns of ``n`` minutes from ``first_s``, one source per kind and minute."""
    index = np.rint((rows["minute"] - first_s) / _MINUTE_S).astype(np.int64)
    inside = (index >= 0) & (index < n)
    choice = analysis.choose_sources(
        minute_index=index,
        source_rank=rows["source_rank"],
        steps_nstep=np.where(inside, rows["steps_nstep"], 0),
        hr_count=np.where(inside, rows["hr_count"], 0),
        cadence_count=np.where(inside, rows["cadence_count"], 0),
        bike_rpm_count=np.where(inside, rows["bike_rpm_count"], 0),
    )
    columns: dict[str, npt.NDArray[Any]] = {}
    for kind, names in _KIND_COLUMNS.items():
        chosen = getattr(choice, kind)
        for name in names:
            values = rows[name]
            dense = np.zeros(n, dtype=values.dtype)
            dense[index[chosen]] = values[chosen]
            columns[name] = dense
    return columns


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
    return DayMinutes(
        start_s=first_s, n_minutes=n, columns=_dense_minutes(rows, first_s=first_s, n=n)
    )


async def load_day_activities(
    conn: AsyncConnection[Any], *, patient_id: UUID, bounds: DayBounds
) -> tuple[analysis.DeclaredActivity, ...]:
    """The activities declared by ``patient_id``'s devices (imported workouts and sessions,
    migration 0021) that overlap ``bounds`` or its context window, oldest first."""
    cur = await conn.execute(
        "SELECT kind, extract(epoch FROM start_t)::float8, extract(epoch FROM end_t)::float8"
        " FROM declared_activities WHERE patient_id = %s AND start_t < %s AND end_t > %s"
        " ORDER BY start_t, kind, device_id",
        (patient_id, bounds.end + CONTEXT, bounds.start - CONTEXT),
    )
    return tuple(
        analysis.DeclaredActivity(kind=kind, start_s=start_s, end_s=end_s)
        for kind, start_s, end_s in await cur.fetchall()
    )


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


# Times as µs since 2000-01-01 UTC (exact: extract gives a numeric), the source's rank as in
# _MINUTES_SQL; NULL-free (fetch_columns needs that).
_RAW_KEY = (
    "SELECT ((extract(epoch FROM t) - 946684800) * 1000000)::int8,"  # PG_EPOCH_S
    " ((array_position(%(devices)s::uuid[], device_id) - 1) * 256 + sensor)::int8"
)
_RAW_KEY_COLUMNS = [("t_us", "int8"), ("source_rank", "int8")]
_RAW_QUERIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "hr": (", bpm FROM hr_samples", [("bpm", "int2")]),
    "steps": (", steps, interval_s FROM step_samples", [("steps", "int4"), ("interval_s", "int4")]),
    "cadence": (
        ", spm, coalesce(running, false) FROM cadence_samples",
        [("spm", "float4"), ("running", "bool")],
    ),
    "bike": (
        # -1 stands for "no power reported" (power_w is optional).
        ", rpm, coalesce(power_w, -1)::int2 FROM bike_samples",
        [("rpm", "float4"), ("power_w", "int2")],
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
            _RAW_KEY
            + select
            + " WHERE device_id = ANY(%(devices)s) AND t >= %(first)s AND t < %(end)s"
        )
        out[key] = await fetch_columns(conn, query, _RAW_KEY_COLUMNS + columns, params)
    return out


def _raw_minute_rows(samples: dict[str, DaySamples]) -> dict[str, npt.NDArray[Any]]:
    """Raw samples rolled up per source and minute exactly as ingest rolls them up."""
    hr, steps, cadence, bike = samples["hr"], samples["steps"], samples["cadence"], samples["bike"]
    rows = minute_rows(
        hr=HeartRateColumns(t_us=hr["t_us"], sensor=hr["source_rank"], bpm=hr["bpm"], rr_s=[]),
        steps=StepColumns(
            t_us=steps["t_us"],
            sensor=steps["source_rank"],
            steps=steps["steps"],
            interval_s=steps["interval_s"],
        ),
        cadence=CadenceColumns(
            t_us=cadence["t_us"],
            sensor=cadence["source_rank"],
            spm=cadence["spm"],
            running=cadence["running"].tolist(),
        ),
        bike=BikeColumns(
            t_us=bike["t_us"],
            sensor=bike["source_rank"],
            rpm=bike["rpm"],
            power_w=[None if w < 0 else w for w in bike["power_w"].tolist()],
        ),
    )
    out = {f.name: getattr(rows, f.name) for f in fields(rows)}
    out["source_rank"] = out.pop("sensor")
    out["minute"] = out.pop("minute_s")
    out.pop("hr_min_bpm")
    return out


def build_grid_from_samples(
    samples: dict[str, DaySamples], *, start_s: int, n_minutes: int
) -> analysis.MinuteGrid:
    """The minute grid of ``n_minutes`` from ``start_s`` from raw samples (one source per kind
    and minute, as :func:`build_grid` takes it from the rollups)."""
    columns = _dense_minutes(_raw_minute_rows(samples), first_s=start_s, n=n_minutes)
    return build_grid(
        DayMinutes(start_s=start_s, n_minutes=n_minutes, columns=columns),
        start_s=start_s,
        n_minutes=n_minutes,
    )
