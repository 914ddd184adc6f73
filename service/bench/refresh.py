"""End-to-end refresh of one patient-day from the database: minute rollups → analysis → summary.

The raw samples of the same day are loaded in the same run as the baseline (what a refresh read
before the rollups).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import date, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import AsyncConnection
from rich.console import Console
from rich.table import Table

from service.bench.scratch import bench_patient, scratch_database
from service.ingest.rollup import backfill_sql
from service.worker import day_bounds, recompute_day
from service.worker.samples import load_day_samples, load_raw_samples

__all__ = ["run"]

TZ = "Europe/Berlin"
DAY = date(2026, 5, 28)
# Three weeks of history before the measured day: what analyse_day reads for multi-day rules.
HISTORY_DAYS = 21


def _copy_day(
    conn: psycopg.Connection[Any], device_id: uuid.UUID, day: date, rng: np.random.Generator
) -> None:
    """86,400 heart-rate samples (1 Hz) and 1,440 step minutes with two walks."""
    start = day_bounds(day, TZ).start
    n = 86_400
    bpm = np.clip(62 + np.cumsum(rng.normal(0, 0.3, n)) * 0.1 + rng.normal(0, 2, n), 40, 180)
    steps = rng.poisson(3, 1440)
    for walk_start in (600, 1080):  # 10:00 and 18:00 local, 20-minute walks at ~100 steps/min
        steps[walk_start : walk_start + 20] = rng.integers(90, 115, 20)
        bpm[walk_start * 60 : (walk_start + 20) * 60] += 30
    with conn.cursor().copy(
        "COPY hr_samples (device_id, t, bpm) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["uuid", "timestamptz", "int2"])
        for i in range(n):
            copy.write_row((device_id, start + timedelta(seconds=i), int(bpm[i])))
    with conn.cursor().copy(
        "COPY step_samples (device_id, t, steps, interval_s) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["uuid", "timestamptz", "int4", "int4"])
        for m in range(1440):
            copy.write_row((device_id, start + timedelta(minutes=m + 1), int(steps[m]), 60))
    conn.commit()


async def _measure(
    db_url: str, patient_id: uuid.UUID, repeats: int
) -> tuple[list[float], list[float], list[float]]:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for d in range(HISTORY_DAYS, 0, -1):
            await recompute_day(conn, patient_id=patient_id, tz=TZ, day=DAY - timedelta(days=d))
        refresh: list[float] = []
        minutes: list[float] = []
        raw: list[float] = []
        bounds = day_bounds(DAY, TZ)
        for _ in range(repeats):
            started = time.perf_counter()
            await load_raw_samples(conn, patient_id=patient_id, bounds=bounds)
            raw.append(time.perf_counter() - started)
            started = time.perf_counter()
            await load_day_samples(conn, patient_id=patient_id, bounds=bounds)
            minutes.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with conn.transaction():
                await recompute_day(conn, patient_id=patient_id, tz=TZ, day=DAY)
            refresh.append(time.perf_counter() - started)
    return refresh, minutes, raw


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def run(console: Console, *, server_url: str, repeats: int = 30, seed: int = 0) -> None:
    """Time the refresh of one 1 Hz patient-day and print p50/p90 next to loading alone."""
    rng = np.random.default_rng(seed)
    with scratch_database(server_url) as db_url:
        bench = asyncio.run(bench_patient(db_url, tz=TZ, surgery_date=DAY - timedelta(days=35)))
        patient_id, device_id = bench.patient_id, bench.device_id
        with console.status("loading 22 days of 1 Hz heart rate"), psycopg.connect(db_url) as conn:
            for d in range(HISTORY_DAYS, -1, -1):
                _copy_day(conn, device_id, DAY - timedelta(days=d), rng)
            # The rows were COPYed around ingest: build their minute rollups as ingest would have.
            conn.execute(backfill_sql())
            conn.commit()
            # Fresh statistics, as autovacuum keeps them on a running server.
            conn.execute("ANALYZE")
        with console.status("refreshing"):
            refresh, minutes, raw = asyncio.run(_measure(db_url, patient_id, repeats))
    table = Table(
        title=f"refresh of one patient-day (86,400 HR samples + 1,440 step minutes, "
        f"{HISTORY_DAYS} days of history), {repeats} runs"
    )
    for column in ("path", "p50 ms", "p90 ms", "mean ms"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for label, values in (
        ("refresh: load minute rollups, grid, analyse_day, store summary", refresh),
        ("load the day's minute rollups alone (what refresh reads)", minutes),
        ("baseline: load the day's raw samples alone (what refresh read before)", raw),
    ):
        table.add_row(
            label,
            f"{_pct(values, 50):.1f}",
            f"{_pct(values, 90):.1f}",
            f"{statistics.mean(values) * 1000:.1f}",
        )
    console.print(table)
