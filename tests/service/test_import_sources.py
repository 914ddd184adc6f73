"""The band and imported files counting the same walk: the day's steps once, not twice.

The hub's band posts a walk through ``POST /v1/ingest``; the patient then imports an Apple Health
export in which the watch and the phone count the same walk (tests/fixtures/apple/SOURCE.txt).
The worker's grid takes one source per kind and minute (analysis.choose_sources): per minute the
larger step count, and the heart rate of the source with the most samples, never two added up.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import orjson
from psycopg import AsyncConnection

import analysis
from service.imports import file_digest, import_parsed, read_file
from service.patients import get_patient
from service.worker import day_bounds
from service.worker.recompute import compute_day
from service.worker.samples import build_grid, load_day_samples
from tests.fixtures.service import World

APPLE = Path(__file__).resolve().parents[1] / "fixtures" / "apple" / "export.xml"
TZ = "Europe/Berlin"  # the world fixture's patient
DAY = date(2026, 5, 11)
WALK = datetime(2026, 5, 11, 8, tzinfo=UTC)  # 10:00-10:20 local: the fixture's walk
WALK_MIN = 20
BAND_STEPS_PER_MIN = 100
BAND_BPM = 90  # the watch measured 95-111 bpm during the walk


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def _post_band_walk(world: World) -> None:
    samples: list[dict[str, Any]] = [
        {
            "kind": "steps",
            "t": _iso(WALK + timedelta(minutes=m + 1)),
            "steps": BAND_STEPS_PER_MIN,
            "interval_s": 60,
        }
        for m in range(WALK_MIN)
    ]
    samples += [
        {"kind": "heart_rate", "t": _iso(WALK + timedelta(seconds=s)), "bpm": BAND_BPM}
        for s in range(WALK_MIN * 60)
    ]
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers={**world.auth(world.device_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def _steps_per_minute_by_device(
    conn: AsyncConnection[Any], patient_id: UUID
) -> dict[str, np.ndarray]:
    """Each device's steps per minute of DAY, binned from its raw samples on its own."""
    bounds = day_bounds(DAY, TZ)
    cur = await conn.execute(
        "SELECT d.name, extract(epoch FROM s.t)::float8, s.steps, s.interval_s"
        " FROM step_samples s JOIN devices d ON d.id = s.device_id WHERE d.patient_id = %s",
        (patient_id,),
    )
    by_device: dict[str, list[tuple[float, int, int]]] = {}
    for name, t, steps, interval in await cur.fetchall():
        by_device.setdefault(name, []).append((t, steps, interval))
    out = {}
    for name, rows in by_device.items():
        t, steps, interval = (np.array(c) for c in zip(*rows, strict=True))
        empty = np.array([], dtype=np.float64)
        out[name] = analysis.build_minute_grid(
            day_start_s=bounds.start_s,
            n_minutes=bounds.n_minutes,
            hr_t_s=empty,
            hr_bpm=empty,
            steps_end_t_s=t,
            steps_count=steps,
            steps_interval_s=interval,
            cadence_t_s=empty,
            cadence_spm=empty,
            cadence_running=np.array([], dtype=bool),
            bike_t_s=empty,
            bike_rpm=empty,
            bike_power_w=empty,
        ).steps
    return out


async def test_band_and_imported_watch_and_phone_count_the_walk_once(world: World) -> None:
    await _post_band_walk(world)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        patient = await get_patient(conn, world.patient_id)
        assert patient is not None
        parsed = read_file(APPLE, zone=TZ)
        await import_parsed(conn, patient=patient, parsed=parsed, digest=file_digest(APPLE))

        per_device = await _steps_per_minute_by_device(conn, world.patient_id)
        computed = await compute_day(conn, patient_id=world.patient_id, tz=TZ, day=DAY)
        bounds = day_bounds(DAY, TZ)
        minutes = await load_day_samples(conn, patient_id=world.patient_id, bounds=bounds)
        grid = build_grid(minutes, start_s=bounds.start_s, n_minutes=bounds.n_minutes)

    assert len(per_device) == 3  # the band, the watch, the phone
    totals = {name: round(float(s.sum())) for name, s in per_device.items()}
    assert sorted(totals.values()) == [2000, 2024, 3554]  # band; watch; phone (SOURCE.txt)
    # Per minute the larger count: the walk once (about 2,000 steps), the phone's afternoon
    # record (1,500 steps) once, never the sum of the three sources (7,578 steps).
    once = np.max(np.stack(list(per_device.values())), axis=0)
    assert np.allclose(grid.steps, once)
    assert computed.summary.steps == round(float(once.sum()))
    assert 2024 + 1500 <= computed.summary.steps < 2100 + 1500
    # The walk's heart rate is the band's alone (60 samples a minute against the watch's 6).
    walk = slice(
        (int(WALK.timestamp()) - bounds.start_s) // 60,
        (int(WALK.timestamp()) - bounds.start_s) // 60 + WALK_MIN,
    )
    assert np.all(grid.hr_mean_bpm[walk] == BAND_BPM)
    assert np.all(grid.hr_count[walk] == 60)


async def test_disjoint_sources_keep_all_their_steps(world: World) -> None:
    # The band walked in the morning only; the imported phone's afternoon record adds to it.
    await _post_band_walk(world)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        patient = await get_patient(conn, world.patient_id)
        assert patient is not None
        parsed = read_file(APPLE, zone=TZ)
        await import_parsed(conn, patient=patient, parsed=parsed, digest=file_digest(APPLE))
        bounds = day_bounds(DAY, TZ)
        minutes = await load_day_samples(conn, patient_id=world.patient_id, bounds=bounds)
        grid = build_grid(minutes, start_s=bounds.start_s, n_minutes=bounds.n_minutes)
    afternoon = slice(
        (int(datetime(2026, 5, 11, 12, tzinfo=UTC).timestamp()) - bounds.start_s) // 60,
        (int(datetime(2026, 5, 11, 14, 30, tzinfo=UTC).timestamp()) - bounds.start_s) // 60,
    )
    assert round(float(grid.steps[afternoon].sum())) == 1500  # the phone's 14:00-16:30 record
