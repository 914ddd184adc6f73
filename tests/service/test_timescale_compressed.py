"""Re-sent and late batches into COMPRESSED TimescaleDB chunks are stored exactly once.

Runs only when the test server has the timescaledb extension loaded (migration 0002 then turns the
sample tables into hypertables, migration 0018 the minute rollups); CI's plain PostgreSQL skips it
with the reason. The README's TimescaleDB section says how to run it against a real server.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest

from service.worker import day_bounds
from tests.fixtures.service import World
from tests.service.test_worker_days import _drain, _summaries

TZ = "Europe/Berlin"  # the world patient's zone
DAY = date(2026, 5, 10)  # an ended day, long before the wall clock: judged when drained
TABLES = ("hr_samples", "step_samples", "sample_minutes")


def _timescale(db_url: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            is not None
        )


@pytest.fixture
def ts_world(world: World) -> World:
    if not _timescale(world.db_url):
        pytest.skip(
            "needs a TimescaleDB server (REHAB_TEST_DATABASE_URL with timescaledb preloaded); "
            "CI runs plain PostgreSQL"
        )
    return world


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _hr(start: datetime, first_s: int, last_s: int) -> list[dict[str, Any]]:
    """1 Hz heart rate for seconds [first_s, last_s) after ``start``; bpm 60 + s mod 50."""
    return [
        {"kind": "heart_rate", "t": _z(start + timedelta(seconds=s)), "bpm": 60 + s % 50}
        for s in range(first_s, last_s)
    ]


def _steps(start: datetime, first_min: int, last_min: int) -> list[dict[str, Any]]:
    """Per-minute steps, 100 a minute (a walk)."""
    return [
        {"kind": "steps", "t": _z(start + timedelta(minutes=m + 1)), "steps": 100, "interval_s": 60}
        for m in range(first_min, last_min)
    ]


async def _post(world: World, samples: list[dict[str, Any]], batch_id: str) -> None:
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": batch_id, "samples": samples}),
        headers={**world.auth(world.device_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def _compress_all(db_url: str) -> int:
    """Compress every chunk of the sample tables and the rollups; the number of chunks compressed."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        n = 0
        for table in TABLES:
            rows = conn.execute(
                "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks(%s) c",
                (table,),
            ).fetchall()
            n += len(rows)
        return n


def _uncompressed_chunks(db_url: str) -> int:
    """Chunks of the sample tables that are not (fully) compressed: 0 if late rows went in place."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM timescaledb_information.chunks"
            " WHERE hypertable_name = ANY(%s) AND NOT is_compressed",
            (list(TABLES),),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _stored(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM hr_samples),"
            " (SELECT count(DISTINCT t) FROM hr_samples),"
            " (SELECT count(*) FROM step_samples),"
            " (SELECT coalesce(sum(hr_count), 0) FROM sample_minutes),"
            " (SELECT coalesce(sum(hr_sum_bpm), 0) FROM sample_minutes),"
            " (SELECT coalesce(sum(steps_nstep), 0) FROM sample_minutes),"
            " (SELECT count(*) FROM sample_minutes)"
        ).fetchone()
    assert row is not None
    keys = ("hr_rows", "hr_times", "step_rows", "hr_count", "hr_sum", "steps_nstep", "minutes")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def _expected(hr: list[dict[str, Any]], steps: list[dict[str, Any]]) -> dict[str, int]:
    minutes = {s["t"][:16] for s in hr} | {s["t"][:16] for s in steps}
    return {
        "hr_rows": len(hr),
        "hr_times": len(hr),
        "step_rows": len(steps),
        "hr_count": len(hr),
        "hr_sum": sum(s["bpm"] for s in hr),
        # 100 steps over a whole minute: 100e9 nano-steps in the minute before its end.
        "steps_nstep": sum(s["steps"] for s in steps) * 1_000_000_000,
        "minutes": len(minutes),
    }


async def test_resent_and_late_batches_into_compressed_chunks_are_stored_once(
    ts_world: World,
) -> None:
    world = ts_world
    start = day_bounds(DAY, TZ).start
    # 08:00–10:00 local: two hours of 1 Hz heart rate and a walk of steps 08:00–08:30.
    first_hr = _hr(start, 8 * 3600, 10 * 3600)
    first_steps = _steps(start, 8 * 60, 8 * 60 + 30)
    first_batch = first_hr + first_steps
    first_id = str(uuid.uuid4())
    await _post(world, first_batch, first_id)
    assert _compress_all(world.db_url) > 0
    assert _uncompressed_chunks(world.db_url) == 0

    # The hub lost the acknowledgement: the same batch again, then the same samples re-batched.
    await _post(world, first_batch, first_id)
    await _post(world, first_batch, str(uuid.uuid4()))
    # A hub offline for a while: a late batch of the same day, overlapping the first by 10 minutes
    # (heart rate 09:50–11:00, steps 08:20–09:00), lands in the compressed chunks.
    late_hr = _hr(start, 9 * 3600 + 50 * 60, 11 * 3600)
    late_steps = _steps(start, 8 * 60 + 20, 9 * 60)
    await _post(world, late_hr + late_steps, str(uuid.uuid4()))
    # And the late batch re-sent, out of order (newest samples first).
    await _post(world, list(reversed(late_hr + late_steps)), str(uuid.uuid4()))

    all_hr = _hr(start, 8 * 3600, 11 * 3600)
    all_steps = _steps(start, 8 * 60, 9 * 60)
    assert _stored(world.db_url) == _expected(all_hr, all_steps)

    # The worker judges the day from the rollups: every sample exactly once.
    await _drain(world)
    summary = _summaries(world)[DAY]
    assert summary["steps"] == sum(s["steps"] for s in all_steps)
    # Lowest minute mean, sample-weighted mean and highest sample (analysis.HeartRateSummary): a
    # sample stored twice would move the mean.
    by_minute: dict[str, list[int]] = {}
    for s in all_hr:
        by_minute.setdefault(s["t"][:16], []).append(s["bpm"])
    bpm = [s["bpm"] for s in all_hr]
    heart_rate = summary["heart_rate"]
    assert heart_rate["min_bpm"] == pytest.approx(min(sum(v) / len(v) for v in by_minute.values()))
    assert heart_rate["mean_bpm"] == pytest.approx(sum(bpm) / len(bpm))
    assert heart_rate["max_bpm"] == max(bpm)
