"""Patient-local days: ingestion marks them dirty, the worker summarises them, the API serves them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.db import make_pool
from service.worker import day_bounds, drain
from tests.fixtures.service import World, make_settings


def test_day_bounds_follow_dst() -> None:
    # Europe/Berlin: clocks go forward on 2026-03-29 and back on 2026-10-25.
    assert day_bounds(date(2026, 3, 29), "Europe/Berlin").n_minutes == 1380
    assert day_bounds(date(2026, 10, 25), "Europe/Berlin").n_minutes == 1500
    normal = day_bounds(date(2026, 5, 10), "Europe/Berlin")
    assert normal.n_minutes == 1440
    assert normal.start == datetime(2026, 5, 9, 22, 0, tzinfo=UTC)


async def _ingest(world: World, samples: list[dict[str, object]]) -> None:
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers=world.auth(world.device_token),
    )
    assert response.status_code == 200, response.text


async def _drain(db_url: str) -> int:
    pool: AsyncConnectionPool[AsyncConnection[object]] = make_pool(db_url, make_settings(db_url))
    async with pool:
        return await drain(pool)


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def test_dst_day_is_summarised_over_23_hours(world: World) -> None:
    # One step sample per local hour across the spring-forward day in Berlin (23 local hours),
    # plus one each just outside the day on both sides.
    bounds = day_bounds(date(2026, 3, 29), "Europe/Berlin")
    hours = int((bounds.end - bounds.start).total_seconds() // 3600)
    assert hours == 23
    samples: list[dict[str, object]] = [
        {
            "kind": "steps",
            "t": _z(bounds.start + timedelta(hours=h, minutes=30)),
            "steps": 100,
            "interval_s": 60,
        }
        for h in range(hours)
    ]
    samples.append(
        {
            "kind": "steps",
            "t": _z(bounds.start - timedelta(minutes=10)),
            "steps": 7,
            "interval_s": 60,
        }
    )
    samples.append(
        {"kind": "steps", "t": _z(bounds.end + timedelta(minutes=10)), "steps": 9, "interval_s": 60}
    )
    await _ingest(world, samples)
    assert await _drain(world.db_url) >= 3
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/days",
        params={"from": "2026-03-28", "to": "2026-03-30"},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200, response.text
    days = {d["date"]: d for d in response.json()}
    assert days["2026-03-29"]["steps"] == 2300
    assert days["2026-03-28"]["steps"] == 7
    assert days["2026-03-30"]["steps"] == 9


async def test_heart_rate_summary_and_recompute_after_late_data(world: World) -> None:
    start = day_bounds(date(2026, 5, 10), "Europe/Berlin").start + timedelta(hours=9)
    await _ingest(
        world,
        [
            {"kind": "heart_rate", "t": _z(start + timedelta(seconds=i)), "bpm": 60 + i % 40}
            for i in range(600)
        ],
    )
    await _drain(world.db_url)
    url = f"/v1/patients/{world.patient_id}/days"
    params = {"from": "2026-05-10", "to": "2026-05-10"}
    (day,) = (
        await world.client.get(url, params=params, headers=world.auth(world.clinician_token))
    ).json()
    hr = day["heart_rate"]
    # min is the lowest minute mean (single-sample dips are artefacts); max is the highest sample.
    assert 60 < hr["min"] <= hr["avg"] <= hr["max"] == 99
    assert day["wear_minutes"] >= 10
    # Late data for the same day makes it dirty again; the summary follows.
    await _ingest(world, [{"kind": "heart_rate", "t": _z(start - timedelta(hours=1)), "bpm": 140}])
    assert await _drain(world.db_url) >= 1
    (day,) = (
        await world.client.get(url, params=params, headers=world.auth(world.clinician_token))
    ).json()
    assert day["heart_rate"]["max"] == 140


async def test_days_are_scoped_to_the_care_team(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/days"
    assert (
        await world.client.get(url, headers=world.auth(world.clinician_token))
    ).status_code == 200
    other = await world.client.get(url, headers=world.auth(world.other_clinician_token))
    # Another team's patient is "not found", not "forbidden": its existence does not leak.
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert (await world.client.get(url)).status_code == 401
    assert (await world.client.get(url, headers=world.auth(world.device_token))).status_code == 401
    listed = (
        await world.client.get("/v1/patients", headers=world.auth(world.clinician_token))
    ).json()
    assert [p["id"] for p in listed] == [str(world.patient_id)]


async def test_days_query_validation(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/days"
    headers = world.auth(world.clinician_token)
    bad_order = await world.client.get(
        url, params={"from": "2026-05-10", "to": "2026-05-01"}, headers=headers
    )
    assert bad_order.status_code == 422
    bad_date = await world.client.get(url, params={"from": "yesterday"}, headers=headers)
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["loc"] == ["query", "from"]
    # Dates at the edge of the calendar are refused, not an overflow: each names its parameter.
    for params in ({"to": "0001-01-01"}, {"from": "0001-01-01", "to": "0001-01-05"}):
        edge = await world.client.get(url, params=params, headers=headers)
        assert edge.status_code == 422, edge.text
        assert edge.json()["errors"][0]["loc"][0] == "query"
    for path in ("sessions", "days"):
        far = await world.client.get(
            f"/v1/patients/{world.patient_id}/{path}",
            params={"from": "9999-12-01", "to": "9999-12-31"},
            headers=headers,
        )
        assert far.status_code == 422, far.text
    old = await world.client.get(f"{url}/0001-01-01", headers=headers)
    assert old.status_code == 200, old.text
    assert old.json()["status"] == "not_monitored"


async def test_logout_revokes_the_token_at_once(world: World) -> None:
    headers = world.auth(world.clinician_token)
    assert (await world.client.get("/v1/auth/me", headers=headers)).status_code == 200
    assert (await world.client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await world.client.get("/v1/auth/me", headers=headers)).status_code == 401


async def test_wrong_password_is_401(world: World) -> None:
    response = await world.client.post(
        "/v1/auth/token", data={"username": "nurse@north.example", "password": "wrong password!"}
    )
    assert response.status_code == 401
    unknown = await world.client.post(
        "/v1/auth/token", data={"username": "nobody@north.example", "password": "wrong password!"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]
