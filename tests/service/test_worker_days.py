"""Which days the worker judges, and when: complete days only for whole-day rules, every day from
monitoring start, gaps with the data after them, backfills, and the days route's statuses.

The clock is injected (``now=``) into the worker functions; nothing sleeps.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

import analysis
from analysis.simulate import simulate_days
from service.db import make_pool
from service.worker import (
    day_bounds,
    drain,
    local_day,
    queue_days,
    queue_ended_days,
    queue_missing_days,
    queue_outdated_days,
)
from tests.fixtures.service import World, make_settings
from tests.service.test_analysis_integration import _wire

TZ = "Europe/Berlin"  # the world patient's zone
# Rules that need the whole day (the contract of analysis.analyse_day for in-progress days).
WHOLE_DAY_RULES = {"BELOW_TARGET_STREAK", "NO_DATA", "RAMP_TOO_FAST", "RESTING_HR_RISE"}


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def _post(world: World, samples: list[dict[str, Any]]) -> None:
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers=world.auth(world.device_token),
    )
    assert response.status_code == 200, response.text


async def _ingest_simulated(world: World, day: date, *, walk_min: float, seed: int = 3) -> None:
    (sim,) = simulate_days(
        seed=seed,
        n_days=1,
        first_day_start_s=day_bounds(day, TZ).start_s,
        daily_walk_min=walk_min,
        non_wear_day_probability=0.0,
        bike_probability=0.0,
    )
    await _post(world, _wire(sim.samples))


async def _one_sample(world: World, day: date, *, hour: int = 12) -> None:
    t = day_bounds(day, TZ).start + timedelta(hours=hour)
    await _post(world, [{"kind": "heart_rate", "t": _z(t), "bpm": 70}])


async def _drain(world: World, now: datetime | None = None) -> int:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(
        world.db_url, make_settings(world.db_url)
    )
    async with pool:
        return await drain(pool, now=now)


def _summaries(world: World) -> dict[date, dict[str, Any]]:
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute(
            "SELECT day, summary FROM daily_summaries WHERE patient_id = %s ORDER BY day",
            (world.patient_id,),
        ).fetchall()
    return dict(rows)


def _queued(world: World) -> list[tuple[date, datetime]]:
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute(
            "SELECT day, queued_at FROM dirty_days WHERE patient_id = %s ORDER BY day",
            (world.patient_id,),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _monitoring_from(world: World) -> date | None:
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute(
            "SELECT monitoring_from FROM patients WHERE id = %s", (world.patient_id,)
        ).fetchone()
    assert row is not None
    return row[0]


def _no_data_starts(summaries: dict[date, dict[str, Any]]) -> set[date]:
    """The first days of the NO_DATA streaks the summaries report."""
    return {
        date.fromisoformat(f["evidence"]["first_day"])
        for s in summaries.values()
        for f in s["flags"]
        if f["code"] == "NO_DATA"
    }


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour``:``minute`` in the patient's zone, as UTC."""
    return day_bounds(day, TZ).start + timedelta(hours=hour, minutes=minute)


async def test_a_day_in_progress_is_not_judged_below_target_and_is_judged_once_ended(
    world: World,
) -> None:
    day = date(2026, 5, 12)
    # Five walking minutes by noon: far below the plan's daily aim, but the day is not over.
    await _ingest_simulated(world, day, walk_min=5.0)
    noon = _local(day, 12)
    assert await _drain(world, now=noon) >= 1
    running = _summaries(world)[day]
    assert running["status"] == "in_progress"
    assert not {f["code"] for f in running["flags"]} & WHOLE_DAY_RULES
    # Before midnight nothing is requeued; just after it, the day is judged whole.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_ended_days(conn, now=_local(day, 23, 59)) == 0
        after_midnight = day_bounds(day, TZ).end + timedelta(seconds=30)
        assert await queue_ended_days(conn, now=after_midnight) == 1
    assert await _drain(world, now=after_midnight) >= 1
    judged = _summaries(world)[day]
    assert judged["status"] == "below"
    # The whole-day stored row is no longer in progress: nothing to requeue any more.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_ended_days(conn, now=after_midnight + timedelta(days=1)) == 0


async def test_a_25_hour_day_is_in_progress_until_its_own_end(world: World) -> None:
    # Europe/Berlin falls back on 2026-10-25: that day has 25 hours and ends at 23:00 UTC.
    day = date(2026, 10, 25)
    bounds = day_bounds(day, TZ)
    assert bounds.n_minutes == 1500
    await _one_sample(world, day)
    # 24 hours after the day's start the day is still running.
    after_24_h = bounds.start + timedelta(hours=24, minutes=30)
    await _drain(world, now=after_24_h)
    assert _summaries(world)[day]["status"] == "in_progress"
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_ended_days(conn, now=after_24_h) == 0
        assert await queue_ended_days(conn, now=bounds.end + timedelta(seconds=1)) == 1
    await _drain(world, now=bounds.end + timedelta(seconds=1))
    assert _summaries(world)[day]["status"] != "in_progress"


async def test_gap_days_are_queued_in_the_transaction_of_the_data_after_them(world: World) -> None:
    first = date(2026, 5, 1)
    await _one_sample(world, first)
    await _drain(world)
    assert set(_summaries(world)) == {first}
    # Five days later the band uploads again: the four days between are queued with that day, in
    # the same transaction (one queued_at, the transaction's time), before any sweep.
    later = first + timedelta(days=5)
    await _one_sample(world, later)
    queued = _queued(world)
    assert [d for d, _ in queued] == [first + timedelta(days=i) for i in range(1, 6)]
    assert len({t for _, t in queued}) == 1
    await _drain(world)
    summaries = _summaries(world)
    assert set(summaries) == {first + timedelta(days=i) for i in range(6)}
    assert all(s["status"] != "in_progress" for s in summaries.values())


async def test_a_2016_backfill_is_judged_from_its_first_to_its_last_sample_day(
    world: World,
) -> None:
    # The hub was paired today; an import of old data arrives, in two batches, out of order.
    today = local_day(datetime.now(UTC), TZ)
    assert _monitoring_from(world) == today
    await _one_sample(world, date(2016, 3, 9), hour=9)
    await _one_sample(world, date(2016, 3, 2), hour=9)
    assert _monitoring_from(world) == date(2016, 3, 2)
    await _drain(world)
    summaries = _summaries(world)
    expected = {date(2016, 3, 2) + timedelta(days=i) for i in range(8)}
    assert set(summaries) == expected
    assert all(s["status"] not in ("in_progress",) for s in summaries.values())
    # Nothing before the first sample's day is judged, and no NO_DATA streak starts before it.
    assert all(start >= date(2016, 3, 2) for start in _no_data_starts(summaries))
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/days",
        params={"from": "2016-02-28", "to": "2016-03-10"},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200
    statuses = {d["date"]: d["status"] for d in response.json()}
    assert [statuses[f"2016-02-{n}"] for n in (28, 29)] == ["not_monitored"] * 2
    assert statuses["2016-03-01"] == "not_monitored"
    assert statuses["2016-03-02"] not in ("not_monitored", "pending", "in_progress")
    assert statuses["2016-03-10"] == "pending"


async def test_no_day_before_monitoring_start_is_ever_judged(world: World) -> None:
    start = _monitoring_from(world)  # the device was created today
    assert start == local_day(datetime.now(UTC), TZ)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        # An explicit backfill of earlier days queues nothing before monitoring start.
        assert (
            await queue_days(
                conn,
                patient_id=world.patient_id,
                first=start - timedelta(days=30),
                last=start - timedelta(days=1),
            )
            == 0
        )
        # A stray queue entry before it is dropped without a judgement.
        await conn.execute(
            "INSERT INTO dirty_days (patient_id, day) VALUES (%s, %s)",
            (world.patient_id, start - timedelta(days=3)),
        )
        # Three days on, the sweep queues monitoring start to (then) today, nothing earlier.
        later = _local(start + timedelta(days=3), 12)
        assert await queue_missing_days(conn, now=later) == 4
    await _drain(world, now=later)
    summaries = _summaries(world)
    assert set(summaries) == {start + timedelta(days=i) for i in range(4)}
    assert summaries[start + timedelta(days=3)]["status"] == "in_progress"
    # Monitoring start and the two days after it hold no data: NO_DATA may say so, from then on.
    assert all(first >= start for first in _no_data_starts(summaries))
    assert not _queued(world)


async def test_the_sweep_scans_from_the_newest_summary(world: World) -> None:
    start = _monitoring_from(world)
    assert start is not None
    now = _local(start + timedelta(days=2), 12)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_missing_days(conn, now=now) == 3
    await _drain(world, now=now)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        # Everything up to today is summarised (today in progress): nothing to sweep.
        assert await queue_missing_days(conn, now=now) == 0
        # Two days later, only the two new days.
        assert await queue_missing_days(conn, now=now + timedelta(days=2)) == 2


async def test_summaries_of_an_older_analysis_version_are_requeued(world: World) -> None:
    day = date(2026, 5, 4)
    await _one_sample(world, day)
    await _drain(world)
    with psycopg.connect(world.db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE daily_summaries SET analysis_version = 'analysis-1.0.0' WHERE patient_id = %s",
            (world.patient_id,),
        )
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_outdated_days(conn) == 1
        assert await queue_outdated_days(conn) == 0  # already queued
    await _drain(world)
    with psycopg.connect(world.db_url) as conn:
        versions = conn.execute(
            "SELECT DISTINCT analysis_version FROM daily_summaries WHERE patient_id = %s",
            (world.patient_id,),
        ).fetchall()
    assert versions == [(analysis.ANALYSIS_VERSION,)]


async def test_days_lists_every_date_with_its_status(world: World) -> None:
    today = local_day(datetime.now(UTC), TZ)
    data_day = today - timedelta(days=3)
    await _one_sample(world, data_day)
    assert _monitoring_from(world) == data_day
    url = f"/v1/patients/{world.patient_id}/days"
    headers = world.auth(world.clinician_token)
    params = {"from": str(today - timedelta(days=5)), "to": str(today + timedelta(days=2))}

    async def statuses() -> list[tuple[str, str]]:
        response = await world.client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [(d["date"], d["status"]) for d in response.json()]

    # Before the worker ran: one item per date up to today, oldest first; nothing after today.
    assert await statuses() == [
        (str(today - timedelta(days=5)), "not_monitored"),
        (str(today - timedelta(days=4)), "not_monitored"),
        (str(data_day), "pending"),
        (str(today - timedelta(days=2)), "pending"),
        (str(today - timedelta(days=1)), "pending"),
        (str(today), "in_progress"),
    ]
    await _drain(world)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await queue_missing_days(conn)
    await _drain(world)
    listed = (await world.client.get(url, params=params, headers=headers)).json()
    assert [d["date"] for d in listed] == [str(today - timedelta(days=i)) for i in range(5, -1, -1)]
    by_date = {d["date"]: d for d in listed}
    assert by_date[str(today)]["status"] == "in_progress"
    assert "steps" in by_date[str(today)]  # today's stored summary so far
    assert by_date[str(data_day)]["status"] in ("insufficient_data", "below", "on_track", "above")
    assert all("checkins" in d for d in listed)
    pending_item = by_date[str(today - timedelta(days=5))]
    assert pending_item == {"date": pending_item["date"], "status": "not_monitored", "checkins": []}

    # One day: 200 from monitoring start (and before it, as not monitored) to today, 404 after.
    for day, status in (
        (today - timedelta(days=5), "not_monitored"),
        (data_day, by_date[str(data_day)]["status"]),
        (today, "in_progress"),
    ):
        one = await world.client.get(f"{url}/{day}", headers=headers)
        assert one.status_code == 200, one.text
        assert one.json()["status"] == status
        assert one.json()["date"] == str(day)
    future = await world.client.get(f"{url}/{today + timedelta(days=1)}", headers=headers)
    assert future.status_code == 404
    assert future.headers["content-type"] == "application/problem+json"
    assert "has not started yet" in future.json()["detail"]
    # Sessions and progress read the in-progress summary without trouble.
    assert (
        await world.client.get(f"/v1/patients/{world.patient_id}/sessions", headers=headers)
    ).status_code == 200
    progress = await world.client.get(f"/v1/patients/{world.patient_id}/progress", headers=headers)
    assert progress.status_code == 200, progress.text


async def test_ingest_keeps_the_devices_newest_sample_time(world: World) -> None:
    t = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)

    def last_sample_at() -> datetime | None:
        with psycopg.connect(world.db_url) as conn:
            row = conn.execute("SELECT last_sample_at FROM devices").fetchone()
        assert row is not None
        return row[0]

    assert last_sample_at() is None
    await _post(
        world,
        [
            {"kind": "heart_rate", "t": _z(t), "bpm": 70},
            {"kind": "steps", "t": _z(t + timedelta(minutes=5)), "steps": 30, "interval_s": 60},
        ],
    )
    assert last_sample_at() == t + timedelta(minutes=5)
    # Older data (a late upload) does not move it back; newer data moves it on.
    await _post(world, [{"kind": "heart_rate", "t": _z(t - timedelta(days=2)), "bpm": 70}])
    assert last_sample_at() == t + timedelta(minutes=5)
    assert _monitoring_from(world) == date(2026, 5, 8)
    await _post(world, [{"kind": "heart_rate", "t": _z(t + timedelta(hours=1)), "bpm": 70}])
    assert last_sample_at() == t + timedelta(hours=1)
    # Monitoring start moves only earlier.
    assert _monitoring_from(world) == date(2026, 5, 8)
