"""Minute rollups of the samples a batch stored, added to ``sample_minutes`` in its transaction.

One row per (device, sensor, UTC minute) holds what :func:`analysis.build_minute_grid_from_minutes`
needs (migration 0018 describes the columns). The rows are computed here with numpy from what
the insert actually stored (never a duplicate) and added to the stored rows with one upsert in
primary-key order (the lock order of migration 0017). Steps are spread with
:func:`analysis.spread_steps_nstep`, the same integer shares :func:`analysis.build_minute_grid`
uses, so a grid from rollups equals the grid from the raw samples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection

from analysis import spread_steps_nstep
from analysis.minute_steps import MINUTE_US
from service.db.epoch import PG_EPOCH_S
from service.ingest.validate import BikeColumns, CadenceColumns, HeartRateColumns, StepColumns

__all__ = ["MinuteRows", "add_rollups", "backfill_sql", "minute_rows"]

# A row's key packs (sensor, minute since 2000-01-01 UTC): minutes stay far below 2**40 (2**40
# minutes is two million years).
_SENSOR_SHIFT = 40
_SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class MinuteRows:
    """Rollup rows in key order (sensor, minute); every array has one element per row."""

    sensor: npt.NDArray[np.int64]
    minute_s: npt.NDArray[np.int64]  # Unix time of the minute's start, s
    hr_count: npt.NDArray[np.int64]
    hr_sum_bpm: npt.NDArray[np.int64]
    hr_min_bpm: npt.NDArray[np.int64]  # meaningless where hr_count is 0 (stored as NULL)
    hr_max_bpm: npt.NDArray[np.int64]
    steps_nstep: npt.NDArray[np.int64]
    cadence_count: npt.NDArray[np.int64]
    cadence_sum_spm: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_]
    bike_rpm_count: npt.NDArray[np.int64]
    bike_rpm_sum: npt.NDArray[np.float64]
    bike_power_count: npt.NDArray[np.int64]
    bike_power_sum_w: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.sensor)


def _keys(sensor: npt.NDArray[Any], minute: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return (sensor.astype(np.int64) << _SENSOR_SHIFT) | minute


def minute_rows(
    *, hr: HeartRateColumns, steps: StepColumns, cadence: CadenceColumns, bike: BikeColumns
) -> MinuteRows:
    """The rollup rows of stored samples (each sample counted once, as given)."""
    st_sample, st_minute, st_nstep = spread_steps_nstep(
        end_us=steps.t_us, steps=steps.steps, interval_s=steps.interval_s
    )
    power_rows = [i for i, w in enumerate(bike.power_w) if w is not None]
    power_idx = np.array(power_rows, dtype=np.intp)
    parts = (
        _keys(hr.sensor, hr.t_us // MINUTE_US),
        _keys(steps.sensor[st_sample], st_minute),
        _keys(cadence.sensor, cadence.t_us // MINUTE_US),
        _keys(bike.sensor, bike.t_us // MINUTE_US),
    )
    keys, inverse = np.unique(np.concatenate(parts), return_inverse=True)
    n = len(keys)
    bounds = np.cumsum([0, *(len(p) for p in parts)])
    i_hr, i_st, i_ca, i_bk = (inverse[bounds[j] : bounds[j + 1]] for j in range(4))
    bpm = hr.bpm.astype(np.int64)
    hr_min = np.full(n, np.iinfo(np.int64).max)
    hr_max = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(hr_min, i_hr, bpm)
    np.maximum.at(hr_max, i_hr, bpm)
    # Integer sums through bincount's float64 are exact below 2**53.
    hr_sum = np.bincount(i_hr, weights=bpm, minlength=n)
    nstep = np.bincount(i_st, weights=st_nstep, minlength=n)
    # The float sums add float4 values widened to float8, as the grid does with stored values.
    spm = cadence.spm.astype(np.float32).astype(np.float64)
    running = np.array([bool(r) for r in cadence.running], dtype=bool)
    rpm = bike.rpm.astype(np.float32).astype(np.float64)
    power = np.array([bike.power_w[i] for i in power_rows], dtype=np.int64)
    minute = keys & ((1 << _SENSOR_SHIFT) - 1)
    return MinuteRows(
        sensor=keys >> _SENSOR_SHIFT,
        minute_s=minute * _SECONDS_PER_MINUTE + PG_EPOCH_S,
        hr_count=np.bincount(i_hr, minlength=n),
        hr_sum_bpm=np.rint(hr_sum).astype(np.int64),
        hr_min_bpm=hr_min,
        hr_max_bpm=hr_max,
        steps_nstep=np.rint(nstep).astype(np.int64),
        cadence_count=np.bincount(i_ca, minlength=n),
        cadence_sum_spm=np.bincount(i_ca, weights=spm, minlength=n).astype(np.float64),
        running=np.bincount(i_ca, weights=running, minlength=n) > 0,
        bike_rpm_count=np.bincount(i_bk, minlength=n),
        bike_rpm_sum=np.bincount(i_bk, weights=rpm, minlength=n).astype(np.float64),
        bike_power_count=np.bincount(i_bk[power_idx], minlength=n),
        bike_power_sum_w=np.rint(np.bincount(i_bk[power_idx], weights=power, minlength=n)).astype(
            np.int64
        ),
    )


# Rows in key order (ORDER BY: the lock order), each added to the stored row of its minute.
_UPSERT_SQL = (
    "INSERT INTO sample_minutes AS m (device_id, sensor, minute, hr_count, hr_sum_bpm,"
    " hr_min_bpm, hr_max_bpm, steps_nstep, cadence_count, cadence_sum_spm, running,"
    " bike_rpm_count, bike_rpm_sum, bike_power_count, bike_power_sum_w)"
    " SELECT %(device)s, r.sensor, to_timestamp(r.minute_s), r.hr_count, r.hr_sum,"
    " CASE WHEN r.hr_count > 0 THEN r.hr_min END, CASE WHEN r.hr_count > 0 THEN r.hr_max END,"
    " r.nstep, r.ca_count, r.ca_sum, r.running, r.rpm_count, r.rpm_sum, r.pw_count, r.pw_sum"
    " FROM unnest(%(sensor)s::int2[], %(minute_s)s::int8[], %(hr_count)s::int4[],"
    " %(hr_sum)s::int8[], %(hr_min)s::int2[], %(hr_max)s::int2[], %(nstep)s::int8[],"
    " %(ca_count)s::int4[], %(ca_sum)s::float8[], %(running)s::bool[], %(rpm_count)s::int4[],"
    " %(rpm_sum)s::float8[], %(pw_count)s::int4[], %(pw_sum)s::int8[])"
    " AS r(sensor, minute_s, hr_count, hr_sum, hr_min, hr_max, nstep, ca_count, ca_sum, running,"
    " rpm_count, rpm_sum, pw_count, pw_sum)"
    " ORDER BY r.sensor, r.minute_s"
    " ON CONFLICT (device_id, sensor, minute) DO UPDATE SET"
    " hr_count = m.hr_count + EXCLUDED.hr_count,"
    " hr_sum_bpm = m.hr_sum_bpm + EXCLUDED.hr_sum_bpm,"
    " hr_min_bpm = least(m.hr_min_bpm, EXCLUDED.hr_min_bpm),"
    " hr_max_bpm = greatest(m.hr_max_bpm, EXCLUDED.hr_max_bpm),"
    " steps_nstep = m.steps_nstep + EXCLUDED.steps_nstep,"
    " cadence_count = m.cadence_count + EXCLUDED.cadence_count,"
    " cadence_sum_spm = m.cadence_sum_spm + EXCLUDED.cadence_sum_spm,"
    " running = m.running OR EXCLUDED.running,"
    " bike_rpm_count = m.bike_rpm_count + EXCLUDED.bike_rpm_count,"
    " bike_rpm_sum = m.bike_rpm_sum + EXCLUDED.bike_rpm_sum,"
    " bike_power_count = m.bike_power_count + EXCLUDED.bike_power_count,"
    " bike_power_sum_w = m.bike_power_sum_w + EXCLUDED.bike_power_sum_w"
)


async def add_rollups(conn: AsyncConnection[Any], device_id: UUID, rows: MinuteRows) -> None:
    """Add ``rows`` to ``device_id``'s stored minute rollups (in the caller's transaction)."""
    if not len(rows):
        return
    hr_min = np.clip(rows.hr_min_bpm, 0, 32767)  # rows without heart rate: NULL in the SQL
    hr_max = np.clip(rows.hr_max_bpm, 0, 32767)
    await conn.execute(
        _UPSERT_SQL,
        {
            "device": device_id,
            "sensor": rows.sensor.tolist(),
            "minute_s": rows.minute_s.tolist(),
            "hr_count": rows.hr_count.tolist(),
            "hr_sum": rows.hr_sum_bpm.tolist(),
            "hr_min": hr_min.tolist(),
            "hr_max": hr_max.tolist(),
            "nstep": rows.steps_nstep.tolist(),
            "ca_count": rows.cadence_count.tolist(),
            "ca_sum": rows.cadence_sum_spm.tolist(),
            "running": rows.running.tolist(),
            "rpm_count": rows.bike_rpm_count.tolist(),
            "rpm_sum": rows.bike_rpm_sum.tolist(),
            "pw_count": rows.bike_power_count.tolist(),
            "pw_sum": rows.bike_power_sum_w.tolist(),
        },
    )


def backfill_sql() -> str:
    """Migration 0018's statement that rebuilds every rollup row from the raw samples.

    For rows loaded around ingest (a benchmark's COPY, a bulk import): run it on an empty
    ``sample_minutes``.
    """
    text = (resources.files("service.db.migrations") / "0018_minute_rollups.sql").read_text()
    match = re.search(r"^INSERT INTO sample_minutes.*?;$", text, re.DOTALL | re.MULTILINE)
    assert match is not None, "migration 0018 holds the backfill"
    return match[0]
