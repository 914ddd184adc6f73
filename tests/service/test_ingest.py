"""POST /v1/ingest: validation, idempotency, atomicity, against a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from service.api import create_app
from service.ingest.store import NOTIFY_CHANNEL
from tests.fixtures.service import World, make_settings

T0 = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def batch(samples: list[dict[str, Any]], batch_id: str | None = None) -> dict[str, Any]:
    return {"batch_id": batch_id or str(uuid.uuid4()), "samples": samples}


def hr(i: int, bpm: int = 80) -> dict[str, Any]:
    return {"kind": "heart_rate", "t": _iso(T0 + timedelta(seconds=i)), "bpm": bpm}


def counts(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("hr_samples", "step_samples", "cadence_samples", "bike_samples")
        }


async def post(world: World, body: Any, token: str | None = None) -> Any:
    return await world.client.post(
        "/v1/ingest",
        content=orjson.dumps(body),
        headers={**world.auth(token or world.device_token), "Content-Type": "application/json"},
    )


async def test_example_batch_is_stored(world: World) -> None:
    body = batch(
        [
            {
                "kind": "heart_rate",
                "t": "2026-05-10T09:00:01.250Z",
                "bpm": 88,
                "rr_s": [0.68, 0.69],
            },
            {"kind": "steps", "t": "2026-05-10T09:01:00Z", "steps": 104, "interval_s": 60},
            {"kind": "cadence", "t": "2026-05-10T09:00:30Z", "spm": 104},
            {"kind": "bike", "t": "2026-05-10T17:00:01Z", "rpm": 62, "power_w": 45},
        ]
    )
    response = await post(world, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0}
    assert counts(world.db_url) == dict.fromkeys(
        ("hr_samples", "step_samples", "cadence_samples", "bike_samples"), 1
    )
    with psycopg.connect(world.db_url) as conn:
        rr = conn.execute("SELECT rr_s FROM hr_samples").fetchone()
        assert rr is not None
        assert rr[0] == pytest.approx([0.68, 0.69])
        days = conn.execute("SELECT day::text FROM dirty_days ORDER BY day").fetchall()
        # The bike sample at 19:00 Berlin time also dirties the next day, whose judgement reads
        # the evening before (sessions crossing midnight).
        assert [d[0] for d in days] == ["2026-05-10", "2026-05-11"]


async def test_same_batch_twice_counts_duplicates(world: World) -> None:
    body = batch([hr(i) for i in range(100)])
    first = await post(world, body)
    second = await post(world, body)
    assert first.json() == {"accepted": 100, "duplicates": 0}
    assert second.json() == {"accepted": 0, "duplicates": 100}
    assert counts(world.db_url)["hr_samples"] == 100


async def test_overlapping_batches_store_each_sample_once(world: World) -> None:
    await post(world, batch([hr(i) for i in range(0, 60)]))
    response = await post(world, batch([hr(i, bpm=99) for i in range(30, 90)]))
    assert response.json() == {"accepted": 30, "duplicates": 30}
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute("SELECT count(*), max(bpm) FROM hr_samples WHERE bpm = 99").fetchone()
    # A duplicate never overwrites the stored value.
    assert row == (30, 99)
    assert counts(world.db_url)["hr_samples"] == 90


# Made when the module is collected, so well past the 5 minutes allowed: a long suite runs this
# test many minutes later, and the time must still be in the future then.
FUTURE = _iso(datetime.now(UTC) + timedelta(days=30))

BAD_CASES = [
    ("unknown kind", {"kind": "glucose", "t": "2026-05-10T09:00:00Z"}, ["samples", 1, "kind"]),
    ("missing field", {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z"}, ["samples", 1, "bpm"]),
    (
        "bpm too low",
        {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z", "bpm": 19},
        ["samples", 1, "bpm"],
    ),
    (
        "bpm too high",
        {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z", "bpm": 251},
        ["samples", 1, "bpm"],
    ),
    (
        "negative steps",
        {"kind": "steps", "t": "2026-05-10T09:01:00Z", "steps": -1, "interval_s": 60},
        ["samples", 1, "steps"],
    ),
    (
        "implausible steps",
        {"kind": "steps", "t": "2026-05-10T09:01:00Z", "steps": 241, "interval_s": 60},
        ["samples", 1, "steps"],
    ),
    ("future time", {"kind": "heart_rate", "t": FUTURE, "bpm": 70}, ["samples", 1, "t"]),
    (
        "before 2000",
        {"kind": "heart_rate", "t": "1999-12-31T23:59:59Z", "bpm": 70},
        ["samples", 1, "t"],
    ),
    (
        "impossible date",
        {"kind": "heart_rate", "t": "2026-02-30T09:00:00Z", "bpm": 70},
        ["samples", 1, "t"],
    ),
    (
        "no offset",
        {"kind": "heart_rate", "t": "2026-05-10T09:00:00", "bpm": 70},
        ["samples", 1, "t"],
    ),
    (
        "unknown field",
        {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z", "bmp": 70, "bpm": 70},
        ["samples", 1, "bmp"],
    ),
]


@pytest.mark.parametrize(("case", "bad", "loc"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
async def test_bad_sample_rejects_whole_batch(
    world: World, case: str, bad: dict[str, Any], loc: list[Any]
) -> None:
    response = await post(world, batch([hr(0), bad, hr(2)]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert any(e["loc"] == loc for e in problem["errors"]), problem
    assert "samples[1]" in problem["detail"]
    assert counts(world.db_url) == dict.fromkeys(
        ("hr_samples", "step_samples", "cadence_samples", "bike_samples"), 0
    )


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        (
            {"kind": "glucose", "t": "2026-05-10T09:00:00Z"},
            "samples[1].kind: 'glucose' is not a kind",
        ),
        ({"kind": "heart_rate", "t": "2026-05-10T09:00:00Z"}, "samples[1].bpm: field required"),
        (
            {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z", "bpm": 70, "bmp": 70},
            "samples[1].bmp: unknown field",
        ),
        (
            {"kind": "heart_rate", "t": "2026-05-10T09:00:00Z", "bpm": 251},
            "samples[1].bpm: Expected",
        ),
        (
            {"kind": "heart_rate", "t": "10/05/2026 09:00", "bpm": 70},
            "samples[1].t: must be an RFC 3339 time",
        ),
    ],
)
async def test_problems_read_as_sentences(world: World, bad: dict[str, Any], detail: str) -> None:
    response = await post(world, batch([hr(0), bad, hr(2)]))
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail), response.json()["detail"]
    assert response.json()["detail"].endswith("nothing of this batch was stored")


async def test_every_bad_time_is_reported(world: World) -> None:
    samples = [hr(0), {**hr(1), "t": "2026-02-30T09:00:00Z"}, hr(2), {**hr(3), "t": "soon"}]
    response = await post(world, batch(samples))
    assert response.status_code == 422
    problem = response.json()
    assert [e["loc"] for e in problem["errors"]] == [["samples", 1, "t"], ["samples", 3, "t"]]
    assert problem["error_count"] == 2


async def test_malformed_json_and_empty_batch(world: World) -> None:
    response = await world.client.post(
        "/v1/ingest", content=b"{not json", headers=world.auth(world.device_token)
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the body is not valid JSON (JSON is malformed")
    response = await post(world, batch([]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["samples"]


async def test_too_many_samples_is_413(world: World, db_url: str) -> None:
    app = create_app(make_settings(db_url, ingest_max_samples=10))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        response = await c.post(
            "/v1/ingest",
            content=orjson.dumps(batch([hr(i) for i in range(11)])),
            headers=world.auth(world.device_token),
        )
        assert response.status_code == 413
        assert response.json()["limit"] == 10
        big = b" " * (8 * 1024 * 1024 + 1)
        response = await c.post("/v1/ingest", content=big, headers=world.auth(world.device_token))
        assert response.status_code == 413
    assert counts(db_url)["hr_samples"] == 0


@pytest.mark.parametrize("token", [None, "rmd_not-a-token"])
async def test_ingest_needs_a_device_token(world: World, token: str | None) -> None:
    headers = {} if token is None else world.auth(token)
    response = await world.client.post(
        "/v1/ingest", content=orjson.dumps(batch([hr(0)])), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_user_token_cannot_ingest(world: World) -> None:
    response = await post(world, batch([hr(0)]), token=world.clinician_token)
    assert response.status_code == 401


async def test_offsets_are_applied(world: World) -> None:
    body = batch(
        [
            {"kind": "heart_rate", "t": "2026-05-10T11:00:00.5+02:00", "bpm": 70},
            {"kind": "heart_rate", "t": "2026-05-10T04:30:01-04:30", "bpm": 71},
            {"kind": "heart_rate", "t": "2026-05-10T09:00:02.123456Z", "bpm": 72},
        ]
    )
    response = await post(world, body)
    assert response.json() == {"accepted": 3, "duplicates": 0}
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute("SELECT t, bpm FROM hr_samples ORDER BY t").fetchall()
    assert rows == [
        (datetime(2026, 5, 10, 9, 0, 0, 500_000, tzinfo=UTC), 70),
        (datetime(2026, 5, 10, 9, 0, 1, tzinfo=UTC), 71),
        (datetime(2026, 5, 10, 9, 0, 2, 123_456, tzinfo=UTC), 72),
    ]


async def test_sensors_of_one_hub_are_kept_apart(world: World) -> None:
    t = "2026-05-10T09:00:00.500Z"
    first = await post(
        world,
        batch(
            [
                {"kind": "heart_rate", "t": t, "bpm": 70, "sensor": 1},
                {"kind": "heart_rate", "t": t, "bpm": 90, "sensor": 2},
                {"kind": "heart_rate", "t": t, "bpm": 80},
            ]
        ),
    )
    # Same hub, same kind, same millisecond: three sensors, three samples.
    assert first.json() == {"accepted": 3, "duplicates": 0}
    again = await post(world, batch([{"kind": "heart_rate", "t": t, "bpm": 99, "sensor": 2}]))
    assert again.json() == {"accepted": 0, "duplicates": 1}
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute("SELECT sensor, bpm FROM hr_samples ORDER BY sensor").fetchall()
    assert rows == [(0, 80), (1, 70), (2, 90)]
    bad = await post(world, batch([{"kind": "heart_rate", "t": t, "bpm": 70, "sensor": 256}]))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["samples", 0, "sensor"]


async def test_a_stored_batch_queues_its_days_and_wakes_the_worker(world: World) -> None:
    async with await psycopg.AsyncConnection.connect(world.db_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        response = await post(world, batch([hr(0), hr(1)]))
        assert response.status_code == 200
        notification = await anext(listener.notifies(timeout=10))
    assert notification.channel == NOTIFY_CHANNEL
    with psycopg.connect(world.db_url) as conn:
        days = [r[0] for r in conn.execute("SELECT day FROM dirty_days ORDER BY day")]
        seen = conn.execute("SELECT last_seen_at IS NOT NULL FROM devices").fetchall()
        batches = conn.execute("SELECT n_samples, accepted, duplicates FROM ingest_batches")
        assert batches.fetchall() == [(2, 2, 0)]
    # 09:00 UTC in the patient's zone, and the days four hours either side.
    assert days
    assert all(abs((d - T0.date()).days) <= 1 for d in days)
    assert (True,) in seen
