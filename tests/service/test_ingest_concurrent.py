"""Concurrent ingest with the worker running: no 5xx, every sample stored once, every day judged.

Several hubs post overlapping and re-sent batches, their samples out of order, all at once, while
a worker drains the queue; two overlapping batches of one device in flight at once both succeed.
Before the lock order of migration 0017 these deadlocked (on the sample tables' primary keys and
on dirty_days). Seeded data; nothing sleeps, nothing is timed.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import orjson
import psycopg
from psycopg import AsyncConnection

from service.accounts import ensure_team
from service.db import make_pool
from service.patients import PatientIn, add_device, add_patient
from service.worker import WorkerOptions, drain, local_day
from tests.fixtures.service import World, make_settings

T0 = datetime(2026, 5, 10, 6, tzinfo=UTC)
OPTIONS = WorkerOptions()
TZ = "Europe/Berlin"


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


Key = tuple[str, int]  # (kind, seconds after T0)


def _batch(start_s: int, n: int, *, step_s: int, seed: int) -> tuple[bytes, set[Key]]:
    """``n`` heart-rate samples (and a steps sample a minute) from ``T0 + start_s``, shuffled."""
    offsets = [start_s + i * step_s for i in range(n)]
    samples: list[dict[str, Any]] = [
        {"kind": "heart_rate", "t": _z(T0 + timedelta(seconds=s)), "bpm": 60 + s % 70}
        for s in offsets
    ]
    samples += [
        {"kind": "steps", "t": _z(T0 + timedelta(seconds=s)), "steps": 40, "interval_s": 60}
        for s in offsets
        if s % 60 == 0
    ]
    random.Random(seed).shuffle(samples)
    keys = {("heart_rate", s) for s in offsets} | {("steps", s) for s in offsets if s % 60 == 0}
    return orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}), keys


def _hr(keys: set[Key]) -> set[int]:
    return {s for kind, s in keys if kind == "heart_rate"}


async def _post(client: httpx.AsyncClient, token: str, body: bytes) -> httpx.Response:
    return await client.post(
        "/v1/ingest",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _hr_offsets(db_url: str, device_token_patient: UUID) -> list[int]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM h.t - %s)::bigint FROM hr_samples h"
            " JOIN devices d ON d.id = h.device_id WHERE d.patient_id = %s",
            (T0, device_token_patient),
        ).fetchall()
    return [r[0] for r in rows]


async def test_two_overlapping_batches_of_one_device_in_flight_both_succeed(world: World) -> None:
    expected: set[Key] = set()
    for round_ in range(4):
        base = round_ * 40_000
        # Half of each batch overlaps the other; both are out of order, differently.
        a, in_a = _batch(base, 4000, step_s=5, seed=2 * round_)
        b, in_b = _batch(base + 10_000, 4000, step_s=5, seed=2 * round_ + 1)
        expected |= in_a | in_b
        answers = await asyncio.gather(
            _post(world.client, world.device_token, a), _post(world.client, world.device_token, b)
        )
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        # Each overlapping sample was stored by one of the two and is a duplicate for the other.
        assert sum(r.json()["accepted"] for r in answers) == len(in_a | in_b)
        assert sum(r.json()["duplicates"] for r in answers) == len(in_a & in_b)
    stored = _hr_offsets(world.db_url, world.patient_id)
    assert len(stored) == len(set(stored))
    assert set(stored) == _hr(expected)


async def _hubs(db_url: str, n: int) -> list[tuple[UUID, str]]:
    """``n`` patients in Berlin, each with a paired hub."""
    out = []
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        await ensure_team(conn, "north")
        for i in range(n):
            patient_id = await add_patient(
                conn,
                PatientIn(
                    display_name=f"Hub patient {i}",
                    birth_year=1955 + i,
                    tz=TZ,
                    surgery_type="fusion",
                    surgery_date=date(2026, 4, 1),
                ),
                team="north",
            )
            _, token = await add_device(conn, patient_id=patient_id)
            out.append((patient_id, token))
    return out


async def test_concurrent_hubs_with_the_worker_running(world: World) -> None:
    hubs = await _hubs(world.db_url, 3)
    step_s, per_batch = 20, 2000  # 20 s apart: a batch spans about 11 hours
    span_s = step_s * per_batch
    plans: dict[UUID, list[bytes]] = {}
    expected: dict[UUID, set[int]] = {}
    for h, (patient_id, _) in enumerate(hubs):
        bodies: list[bytes] = []
        seen: set[Key] = set()
        for k in range(6):
            body, offsets = _batch(k * span_s, per_batch, step_s=step_s, seed=10 * h + k)
            bodies.append(body)
            seen |= offsets
            # An overlap after a reconnect: half of the previous batch and half of this one.
            if k:
                body, offsets = _batch(
                    k * span_s - span_s // 2, per_batch, step_s=step_s, seed=100 + 10 * h + k
                )
                bodies.append(body)
                seen |= offsets
        bodies.append(bodies[0])  # a batch re-sent whole (its answer was lost)
        bodies.append(bodies[3])
        plans[patient_id] = bodies
        expected[patient_id] = _hr(seen)

    codes: list[int] = []
    ingest_done = asyncio.Event()
    pool = make_pool(world.db_url, make_settings(world.db_url))

    async def hub(token: str, bodies: list[bytes]) -> None:
        # Two uploads of a hub in flight at a time, as after a reconnect.
        queue = list(bodies)

        async def sender() -> None:
            while queue:
                response = await _post(world.client, token, queue.pop(0))
                codes.append(response.status_code)

        await asyncio.gather(sender(), sender())

    async def worker() -> int:
        done = 0
        while not ingest_done.is_set():
            done += await drain(pool, options=OPTIONS)
            await asyncio.sleep(0)  # let the uploads run between rounds
        return done

    async with pool:
        worker_task = asyncio.create_task(worker())
        await asyncio.gather(*(hub(token, plans[pid]) for pid, token in hubs))
        ingest_done.set()
        await worker_task
        await drain(pool, options=OPTIONS)  # what arrived after the worker's last round

    assert len(codes) == sum(len(bodies) for bodies in plans.values())
    assert [c for c in codes if c >= 500] == []
    assert set(codes) == {200}
    with psycopg.connect(world.db_url) as conn:
        for patient_id, _ in hubs:
            stored = _hr_offsets(world.db_url, patient_id)
            assert len(stored) == len(set(stored)) == len(expected[patient_id])
            days = {local_day(T0 + timedelta(seconds=s), TZ) for s in expected[patient_id]}
            summarised = {
                r[0]
                for r in conn.execute(
                    "SELECT day FROM daily_summaries WHERE patient_id = %s", (patient_id,)
                ).fetchall()
            }
            assert days <= summarised, sorted(days - summarised)
        # Nothing left behind: no day waiting, failed or claimed.
        assert conn.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)
