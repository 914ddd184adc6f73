"""The worker's queue under faults: a failing day is retried with back-off and set aside while every
other day goes on; a claim holds no lock while the day is computed; a day queued again meanwhile is
computed again; a killed worker's claim is taken over. The clock is injected; nothing sleeps."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

import analysis
from service.db import make_pool
from service.patients import add_device
from service.worker import (
    WorkerOptions,
    day_bounds,
    drain,
    list_failed_days,
    process_one,
    queue_days,
    queue_health,
)
from service.worker import loop as worker_loop
from tests.fixtures.service import World, make_settings

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"  # the world's two patients
DAYS = [date(2026, 5, 10), date(2026, 5, 11), date(2026, 5, 12)]
POISON = DAYS[1]
# A week after the days: all of them complete.
NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)
OPTIONS = WorkerOptions(max_attempts=3, retry_backoff_s=60.0)
SECRET = "resting 61 bpm of patient Jane"  # an exception message that must never be stored


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def _post(world: World, token: str, samples: list[dict[str, Any]]) -> None:
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers={**world.auth(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def _samples(
    world: World, token: str, tz: str, days: list[date], *, bpm: int, hour: int = 12
) -> None:
    """One heart-rate sample at ``hour`` local time on each of ``days``."""
    at = timedelta(hours=hour)
    await _post(
        world,
        token,
        [{"kind": "heart_rate", "t": _z(day_bounds(d, tz).start + at), "bpm": bpm} for d in days],
    )


async def _other_device(world: World) -> str:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        _, token = await add_device(conn, patient_id=world.other_patient_id)
    return token


def _pool(world: World) -> AsyncConnectionPool[AsyncConnection[Any]]:
    return make_pool(world.db_url, make_settings(world.db_url))


async def _drain(world: World, now: datetime) -> int:
    async with _pool(world) as pool:
        return await drain(pool, now=now, options=OPTIONS)


def _summarised(world: World) -> set[tuple[str, date]]:
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute(
            "SELECT CASE WHEN patient_id = %s THEN 'berlin' ELSE 'new_york' END, day"
            " FROM daily_summaries",
            (world.patient_id,),
        ).fetchall()
    return {(r[0], r[1]) for r in rows}


def _queue_row(world: World, day: date) -> dict[str, Any]:
    with psycopg.connect(world.db_url) as conn:
        cur = conn.execute(
            "SELECT attempts, next_attempt_at, failed_at, error_class, claimed_at FROM dirty_days"
            " WHERE patient_id = %s AND day = %s",
            (world.other_patient_id, day),
        )
        row = cur.fetchone()
        assert row is not None
        assert cur.description is not None
        return dict(zip([c.name for c in cur.description], row, strict=True))


AnalyseDay = Callable[..., analysis.DaySummary]


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> AnalyseDay:
    """The analysis raises for the New York patient's POISON day (born 1970), and only for it.

    Returns the real analysis function.
    """
    real: AnalyseDay = analysis.analyse_day

    def analyse_day(**kwargs: Any) -> analysis.DaySummary:
        if kwargs["day"] == POISON and kwargs["patient"].birth_year == 1970:
            raise OverflowError(SECRET)
        return real(**kwargs)

    monkeypatch.setattr(analysis, "analyse_day", analyse_day)
    return real


async def test_a_failing_day_is_retried_with_back_off_then_set_aside_while_others_go_on(
    world: World, poisoned: AnalyseDay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    other_token = await _other_device(world)
    await _samples(world, other_token, NEW_YORK, DAYS, bpm=72)
    await _samples(world, world.device_token, BERLIN, DAYS, bpm=70)

    # First round: every day but the poison one is summarised, for both patients.
    assert await _drain(world, NOW) == 2 * len(DAYS) - 1
    expected = {(p, d) for p in ("berlin", "new_york") for d in DAYS} - {("new_york", POISON)}
    assert _summarised(world) == expected
    row = _queue_row(world, POISON)
    assert (row["attempts"], row["failed_at"], row["claimed_at"]) == (1, None, None)
    assert row["next_attempt_at"] == NOW + timedelta(seconds=60)
    assert row["error_class"] == "OverflowError"
    # Before its back-off has passed it is not tried again: drain ends instead of spinning.
    assert await _drain(world, NOW + timedelta(seconds=59)) == 0
    assert _queue_row(world, POISON)["attempts"] == 1
    # New data for the healthy patient is summarised at once meanwhile.
    await _samples(world, world.device_token, BERLIN, [DAYS[0]], bpm=90, hour=13)
    assert await _drain(world, NOW + timedelta(seconds=59)) >= 1

    # Second attempt after 60 s, third after another 120 s (the back-off doubles): set aside.
    assert await _drain(world, NOW + timedelta(seconds=60)) == 0
    row = _queue_row(world, POISON)
    assert row["attempts"] == 2
    assert row["next_attempt_at"] == NOW + timedelta(seconds=60 + 120)
    assert await _drain(world, NOW + timedelta(seconds=180)) == 0
    row = _queue_row(world, POISON)
    assert row["attempts"] == 3
    assert row["failed_at"] == NOW + timedelta(seconds=180)
    # Set aside: never tried again by the worker, however late.
    assert await _drain(world, NOW + timedelta(days=30)) == 0
    assert _queue_row(world, POISON)["attempts"] == 3

    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        [failed] = await list_failed_days(conn)
        assert (failed.patient_id, failed.day) == (world.other_patient_id, POISON)
        assert (failed.attempts, failed.error_class) == (3, "OverflowError")
        health = await queue_health(conn)
        assert (health.queued, health.retrying, health.failed) == (0, 0, 1)
    # Visible to administrators, and to them only.
    url = "/v1/admin/worker/failed-days"
    answer = await world.client.get(url, headers=world.auth(world.admin_token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["failed"] == 1
    assert [
        (d["patient_id"], d["date"], d["attempts"], d["error_class"]) for d in body["days"]
    ] == [(str(world.other_patient_id), str(POISON), 3, "OverflowError")]
    refused = await world.client.get(url, headers=world.auth(world.clinician_token))
    assert refused.status_code == 403
    # The exception's message is kept nowhere: not in the queue, not in the log.
    with psycopg.connect(world.db_url) as conn:
        dumped = conn.execute("SELECT row_to_json(d)::text FROM dirty_days d").fetchall()
    assert SECRET not in str(dumped)
    assert SECRET not in caplog.text
    assert "set aside" in caplog.text


async def test_a_day_set_aside_is_armed_again_by_queueing_it(
    world: World, poisoned: AnalyseDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_token = await _other_device(world)
    await _samples(world, other_token, NEW_YORK, [POISON], bpm=72)
    for attempt in range(OPTIONS.max_attempts):
        await _drain(world, NOW + timedelta(hours=attempt))
    assert _queue_row(world, POISON)["failed_at"] is not None
    # The fix is deployed (here: the real analysis is back); an explicit request arms the day.
    monkeypatch.setattr(analysis, "analyse_day", poisoned)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert (
            await queue_days(conn, patient_id=world.other_patient_id, first=POISON, last=POISON)
            == 1
        )
    row = _queue_row(world, POISON)
    assert (row["attempts"], row["failed_at"], row["error_class"]) == (0, None, None)
    assert await _drain(world, NOW + timedelta(days=1)) == 1
    assert ("new_york", POISON) in _summarised(world)


async def test_a_claim_holds_no_lock_and_a_day_queued_again_meanwhile_is_computed_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = DAYS[0]
    await _samples(world, world.device_token, BERLIN, [day], bpm=70)
    real = worker_loop.compute_day
    seen: list[str] = []

    async def compute_day(conn: AsyncConnection[Any], **kwargs: Any) -> Any:
        if not seen:
            seen.append("during")
            # While the worker computes the day, its queue row is not locked, and a batch for
            # the same day is stored at once (it would wait for the worker if the row were).
            async with await AsyncConnection.connect(world.db_url, autocommit=True) as other:
                await other.execute(
                    "SELECT 1 FROM dirty_days WHERE patient_id = %s AND day = %s FOR UPDATE NOWAIT",
                    (world.patient_id, day),
                )
            t = day_bounds(day, BERLIN).start + timedelta(hours=15)
            await _post(world, world.device_token, [{"kind": "heart_rate", "t": _z(t), "bpm": 150}])
        return await real(conn, **kwargs)

    monkeypatch.setattr(worker_loop, "compute_day", compute_day)
    async with _pool(world) as pool, pool.connection() as conn:
        assert await process_one(conn, now=NOW, options=OPTIONS) == "recomputed"
        # The summary of the first computation is stored, but the day stays queued…
        async with await AsyncConnection.connect(world.db_url, autocommit=True) as other:
            cur = await other.execute(
                "SELECT claimed_at, attempts FROM dirty_days WHERE patient_id = %s AND day = %s",
                (world.patient_id, day),
            )
            assert await cur.fetchone() == (None, 0)
        # … and the next round computes it with the batch that arrived meanwhile.
        while await process_one(conn, now=NOW, options=OPTIONS) is not None:
            pass
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute(
            "SELECT summary FROM daily_summaries WHERE patient_id = %s AND day = %s",
            (world.patient_id, day),
        ).fetchone()
        assert row is not None
        assert row[0]["heart_rate"]["max"] == 150
        assert conn.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)


_CLAIM = worker_loop._CLAIM_SQL  # the worker's own claim statement


async def test_a_killed_workers_claim_is_taken_over_and_a_live_one_after_its_lease(
    world: World,
) -> None:
    day = DAYS[0]
    await _samples(world, world.device_token, BERLIN, [day], bpm=70)
    stale = NOW - timedelta(seconds=OPTIONS.claim_lease_s)
    # A worker claims the day and is killed: its claim is taken over at once.
    dead = await AsyncConnection.connect(world.db_url, autocommit=True)
    cur = await dead.execute(_CLAIM, {"now": NOW, "stale": stale})
    assert await cur.fetchone() is not None
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as admin:
        # Waits (up to 10 s) until the backend has gone, as after a SIGKILL of the worker.
        cur = await admin.execute(
            "SELECT pg_terminate_backend(%s, 10000)", (dead.info.backend_pid,)
        )
        assert await cur.fetchone() == (True,)
    with contextlib.suppress(psycopg.Error):
        await dead.close()
    assert await _drain(world, NOW) == 1
    # A live worker's claim is left alone until its lease has run out.
    await _samples(world, world.device_token, BERLIN, [day], bpm=80, hour=13)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as alive:
        cur = await alive.execute(_CLAIM, {"now": NOW, "stale": stale})
        assert await cur.fetchone() is not None
        assert await _drain(world, NOW + timedelta(seconds=1)) == 0
        later = NOW + timedelta(seconds=OPTIONS.claim_lease_s + 1)
        assert await _drain(world, later) == 1


async def test_a_bad_patient_row_does_not_stop_the_sweeps_or_the_queue(world: World) -> None:
    """A time zone PostgreSQL does not know fails that patient's days, not everyone's."""
    await _samples(world, world.device_token, BERLIN, [DAYS[0]], bpm=70)
    other_token = await _other_device(world)
    await _samples(world, other_token, NEW_YORK, [DAYS[0]], bpm=70)
    with psycopg.connect(world.db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE patients SET tz = 'Mars/Olympus_Mons' WHERE id = %s", (world.other_patient_id,)
        )
    async with _pool(world) as pool:
        async with pool.connection() as conn:
            # The sweep fails on that row (PostgreSQL knows no such zone): logged, not raised.
            await worker_loop._guarded(conn, worker_loop.queue_missing_days)
        assert await drain(pool, now=NOW, options=OPTIONS) == 1
    assert ("berlin", DAYS[0]) in _summarised(world)
    assert _queue_row(world, DAYS[0])["error_class"] == "ZoneInfoNotFoundError"


def _rehab(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    env["REHAB_DATABASE_URL"] = db_url
    # Wide enough that no line of the output wraps.
    env["COLUMNS"] = "200"
    rehab = Path(sys.executable).parent / "rehab"
    return subprocess.run(
        [str(rehab), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_rehab_analyze_is_bounded_to_the_monitoring_period(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('t') RETURNING id").fetchone()
        assert team is not None
        row = conn.execute(
            "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
            " surgery_date, monitoring_from) VALUES (%s, 'P', 1960, %s, 'fusion', '2026-04-01',"
            " (now() AT TIME ZONE %s)::date - 3) RETURNING id, monitoring_from,"
            " (now() AT TIME ZONE %s)::date",
            (team[0], BERLIN, BERLIN, BERLIN),
        ).fetchone()
        assert row is not None
        patient_id, first, today = row
    whole = _rehab(
        db_url,
        "analyze",
        "--patient",
        str(patient_id),
        "--from",
        "0001-01-01",
        "--to",
        "9999-12-31",
    )
    assert whole.returncode == 0, whole.stderr
    # One line says how the range was bounded; four days (monitoring start to today) are judged.
    [note] = [line for line in whole.stdout.splitlines() if "bounds the requested" in line]
    assert f"analysing {first} … {today}" in note
    assert "0001-01-01 … 9999-12-31" in note
    assert "recomputed 4 patient-days" in whole.stdout
    with psycopg.connect(db_url) as conn:
        days = [r[0] for r in conn.execute("SELECT day FROM daily_summaries ORDER BY day")]
        assert days == [first + timedelta(days=i) for i in range(4)]
        assert conn.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)
    # Without dates: the whole monitoring period, without a note.
    default = _rehab(db_url, "analyze", "--patient", str(patient_id))
    assert default.returncode == 0, default.stderr
    assert "bounds the requested" not in default.stdout
    assert "recomputed 4 patient-days" in default.stdout
    # A range wholly outside it: one line, nothing queued.
    before = _rehab(
        db_url,
        "analyze",
        "--patient",
        str(patient_id),
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-31",
    )
    assert before.returncode == 1
    assert "outside the patient's monitoring period" in before.stderr
    assert len(before.stderr.strip().splitlines()) == 1
    bad = _rehab(db_url, "analyze", "--patient", str(patient_id), "--from", "10000-01-01")
    assert bad.returncode == 2
    assert "YYYY-MM-DD" in bad.stderr
    assert "Traceback" not in bad.stderr
    # --failed with nothing set aside says so; with a day set aside it lists it.
    listed = _rehab(db_url, "analyze", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert "no day is set aside" in listed.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO dirty_days (patient_id, day, attempts, failed_at, error_class)"
            " VALUES (%s, %s, 5, now(), 'OverflowError')",
            (patient_id, first),
        )
    listed = _rehab(db_url, "analyze", "--failed", "--patient", str(patient_id))
    assert listed.returncode == 0, listed.stderr
    assert "OverflowError" in listed.stdout
    assert "1 set aside, 0 waiting for a retry" in listed.stdout
