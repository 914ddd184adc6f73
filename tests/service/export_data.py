"""A patient with three summarised days, a check-in and an acknowledged alert, for the export
and report tests: band data through ingest and the worker, like a real hub's."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.db import make_pool
from service.worker import day_bounds, drain
from tests.fixtures.service import World, make_settings

# The world's patient had surgery on 2026-03-02 (Europe/Berlin): these are days of week 2.
DAYS = (date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11))
WALK_MIN = (12, 18, 25)  # a walk of this many minutes each day, at 100 steps/min
WORN_H = 12  # hours of heart rate each day (judged days need 10 h of wear)


def _z(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day_samples(day: date, walk_min: int) -> list[dict[str, Any]]:
    start = day_bounds(day, "Europe/Berlin").start + timedelta(hours=8)
    samples: list[dict[str, Any]] = []
    for m in range(WORN_H * 60):
        t = start + timedelta(minutes=m)
        walking = 120 <= m < 120 + walk_min
        samples.append({"kind": "heart_rate", "t": _z(t), "bpm": 95 if walking else 62 + m % 7})
        if walking:
            samples.append({"kind": "steps", "t": _z(t), "steps": 100, "interval_s": 60})
    return samples


async def _drain(db_url: str) -> None:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(db_url, make_settings(db_url))
    async with pool:
        await drain(pool)


async def seed_week(world: World) -> None:
    """Three judged days of week 2, a check-in with a red flag, its alert acknowledged."""
    samples = [s for day, walk in zip(DAYS, WALK_MIN, strict=True) for s in _day_samples(day, walk)]
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers=world.auth(world.device_token),
    )
    assert response.status_code == 200, response.text
    checkin = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={
            "day": DAYS[1].isoformat(),
            "pain_0_10": 4,
            "stretching_sessions": 2,
            "strength_session": True,
            "red_flags": ["numbness_or_weakness"],
            "note": "left foot tingles after the walk",
        },
        headers=world.auth(world.patient_token),
    )
    assert checkin.status_code in (200, 201), checkin.text
    await _drain(world.db_url)
    alerts = await world.client.get(
        "/v1/alerts",
        params={"patient_id": str(world.patient_id)},
        headers=world.auth(world.clinician_token),
    )
    assert alerts.status_code == 200, alerts.text
    items = alerts.json()
    items = items["items"] if isinstance(items, dict) else items
    red = [a for a in items if a["source"] == "checkin"]
    assert red, items
    ack = await world.client.post(
        f"/v1/alerts/{red[0]['id']}/acknowledge",
        json={"note": "called: neurology review booked"},
        headers=world.auth(world.clinician_token),
    )
    assert ack.status_code == 200, ack.text
