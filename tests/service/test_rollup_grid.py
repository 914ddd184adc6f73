"""The minute rollups maintained by ingest give exactly the grid the raw samples give.

Seeded random batches of every kind from several sensors are stored through ``store_batch`` with
duplicates inside a batch, re-sent batches, overlapping batches and batches out of time order;
steps intervals cross minutes and local midnight. The grid of each day and of its context windows
built from ``sample_minutes`` must equal, array for array, the grid binned from the raw samples;
and the migration's backfill from raw samples must give the very rows ingest maintained.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import orjson
import pytest
from psycopg import AsyncConnection

import analysis
from service.ingest import parse_batch, store_batch
from service.ingest.rollup import backfill_sql
from service.ingest.store import STAGING_DDL
from service.patients import PatientIn, add_device, add_patient
from service.worker import day_bounds
from service.worker.samples import (
    CONTEXT,
    build_grid,
    build_grid_from_samples,
    load_day_samples,
    load_raw_samples,
)

TZ = "Europe/Berlin"
DAY = date(2026, 5, 10)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# Samples fall between 18:00 local on DAY and 06:00 local the next day: across midnight and
# inside both days' context windows.
SPAN_START = datetime(2026, 5, 10, 16, tzinfo=UTC)
SPAN_US = 12 * 3600 * 1_000_000


def _z(t_us: int) -> str:
    return (SPAN_START + timedelta(microseconds=t_us)).isoformat().replace("+00:00", "Z")


def _samples(rng: np.random.Generator) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for sensor in (1, 2):
        for t in rng.choice(SPAN_US, 1500, replace=False):
            out.append({"kind": "heart_rate", "t": _z(int(t)), "bpm": int(rng.integers(40, 200)),
                        "sensor": sensor})  # fmt: skip
        for t in rng.choice(SPAN_US, 200, replace=False):
            interval = int(rng.choice([60, 60, 1, 7, 59, 61, 90, 600, 3599, 3600]))
            steps = int(rng.integers(0, 4 * interval + 1))
            out.append({"kind": "steps", "t": _z(int(t)), "steps": steps, "interval_s": interval,
                        "sensor": sensor})  # fmt: skip
    for t in rng.choice(SPAN_US, 400, replace=False):
        running = [None, True, False][int(rng.integers(3))]
        out.append({"kind": "cadence", "t": _z(int(t)), "spm": float(rng.uniform(0, 200)),
                    "running": running, "sensor": 3})  # fmt: skip
    for t in rng.choice(SPAN_US, 400, replace=False):
        power = None if rng.random() < 0.3 else int(rng.integers(0, 400))
        out.append({"kind": "bike", "t": _z(int(t)), "rpm": float(rng.uniform(0, 120)),
                    "power_w": power, "sensor": 4})  # fmt: skip
    return out


def _batches(rng: np.random.Generator) -> list[bytes]:
    """Bodies to send, in sending order: shuffled, re-sent, overlapping, late."""
    samples = _samples(rng)
    order = rng.permutation(len(samples))
    parts = [[samples[i] for i in chunk] for chunk in np.array_split(order, 8)]
    # A duplicate inside a batch.
    parts[0].append(parts[0][0])
    bodies = [orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": part}) for part in parts]
    overlap = orjson.dumps(
        {"batch_id": str(uuid.uuid4()), "samples": parts[1][::2] + parts[5][1::2]}
    )
    # Batches 6 and 7 arrive last (late); 2 is re-sent as it was, 4 after the overlap.
    sends = [bodies[i] for i in (3, 0, 2, 1, 5)] + [bodies[2], overlap, bodies[4], bodies[4]]
    return [*sends, bodies[7], bodies[6], overlap]


async def _patient(conn: AsyncConnection[Any]) -> tuple[UUID, UUID]:
    await conn.execute(STAGING_DDL)  # what the pool's configure hook runs
    patient_id = await add_patient(
        conn,
        PatientIn(
            display_name="Rollup patient",
            birth_year=1960,
            tz=TZ,
            surgery_type="fusion",
            surgery_date=date(2026, 4, 20),
        ),
    )
    device_id, _ = await add_device(conn, patient_id=patient_id)
    return patient_id, device_id


def assert_same_grid(a: analysis.MinuteGrid, b: analysis.MinuteGrid) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, f.name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        else:
            assert x == y, f.name


async def _assert_rollups_match_raw(
    conn: AsyncConnection[Any], patient_id: UUID, days: list[date]
) -> None:
    context_min = int(CONTEXT.total_seconds() // 60)
    for day in days:
        bounds = day_bounds(day, TZ)
        minutes = await load_day_samples(conn, patient_id=patient_id, bounds=bounds)
        raw = await load_raw_samples(conn, patient_id=patient_id, bounds=bounds)
        windows = (
            (bounds.start_s, bounds.n_minutes),
            (bounds.start_s - context_min * 60, context_min),
            (int(bounds.end.timestamp()), context_min),
        )
        for start_s, n in windows:
            assert_same_grid(
                build_grid(minutes, start_s=start_s, n_minutes=n),
                build_grid_from_samples(raw, start_s=start_s, n_minutes=n),
            )


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_grid_from_rollups_equals_grid_from_raw_samples(db_url: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id, device_id = await _patient(conn)
        sent = stored = 0
        for body in _batches(rng):
            batch = parse_batch(body, now=NOW, max_samples=50_000)
            result = await store_batch(
                conn, device_id=device_id, patient_id=patient_id, tz=TZ, batch=batch
            )
            sent += batch.n_samples
            stored += result.accepted
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM hr_samples) + (SELECT count(*) FROM step_samples)"
            " + (SELECT count(*) FROM cadence_samples) + (SELECT count(*) FROM bike_samples)"
        )
        row = await cur.fetchone()
        assert row is not None
        assert stored == row[0] < sent  # duplicates were sent and not counted
        await _assert_rollups_match_raw(conn, patient_id, [DAY, DAY + timedelta(days=1)])
        grid = build_grid(
            await load_day_samples(conn, patient_id=patient_id, bounds=day_bounds(DAY, TZ)),
            start_s=day_bounds(DAY, TZ).start_s,
            n_minutes=1440,
        )
        assert grid.hr_count.sum() > 0
        assert grid.steps.sum() > 0
        assert grid.running.any()
        assert np.isfinite(grid.bike_power_w).any()


_ROWS = "SELECT * FROM sample_minutes ORDER BY device_id, sensor, minute"


async def test_migration_backfill_gives_the_rows_ingest_maintains(db_url: str) -> None:
    rng = np.random.default_rng(7)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id, device_id = await _patient(conn)
        for body in _batches(rng):
            batch = parse_batch(body, now=NOW, max_samples=50_000)
            await store_batch(conn, device_id=device_id, patient_id=patient_id, tz=TZ, batch=batch)
        maintained = await (await conn.execute(_ROWS)).fetchall()
        await conn.execute("DELETE FROM sample_minutes")
        await conn.execute(backfill_sql())
        backfilled = await (await conn.execute(_ROWS)).fetchall()
    assert len(maintained) > 100
    assert backfilled == maintained


def test_steps_shares_add_up_and_cross_minutes_exactly() -> None:
    # 90 steps over (00:00:30, 00:02:00], then 7 steps over one second across a minute boundary.
    sample, minute, nstep = analysis.spread_steps_nstep(
        end_us=np.array([120_000_000, 60_500_000]),
        steps=np.array([90, 7]),
        interval_s=np.array([90, 1]),
    )
    assert sample.tolist() == [0, 0, 1, 1]
    assert minute.tolist() == [0, 1, 0, 1]
    assert nstep.tolist() == [30 * 10**9, 60 * 10**9, 3_500_000_000, 3_500_000_000]
