"""A worker that keeps up: batches of claimed days, today's day paced, and two `rehab worker`
processes beside two `rehab serve` processes (built-in workers on) on one database."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import psycopg
from psycopg import AsyncConnection

import analysis
from service.accounts import ensure_team
from service.db import make_pool
from service.notify import TargetIn, add_target
from service.patients import PatientIn, add_device, add_patient
from service.secretbox import secret_box
from service.worker import WorkerOptions, drain, queue_days
from service.worker import loop as worker_loop
from tests.collector.e2e.service_process import REHAB, free_port, rehab_env
from tests.fixtures.service import TEST_SECRET_KEY, make_settings
from tests.service.notify_helpers import webhook_receiver

BERLIN = "Europe/Berlin"
# Tunable test bounds, not timing assertions: how long a process may take to start, and how long
# the fleet may take to settle on a loaded 2-core machine before the test gives up.
_START_LIMIT_S = 60.0
_SETTLE_LIMIT_S = 90.0
_POLL_S = 0.2


def _z(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day_samples(day: date, *, hard: bool, hours: range) -> list[dict[str, object]]:
    """Worn hours of ``day`` (local 09:00 on) at 75 bpm every 10 s; with ``hard``, 20 minutes at
    140 bpm in the second hour (over the test patients' 100 bpm limit)."""
    start = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo(BERLIN))
    samples: list[dict[str, object]] = []
    for hour in hours:
        for s in range(hour * 3600, (hour + 1) * 3600, 10):
            bpm = 140 if hard and 3600 <= s < 3600 + 1200 else 75
            samples.append(
                {"kind": "heart_rate", "t": _z(start + timedelta(seconds=s)), "bpm": bpm}
            )
        for m in range(hour * 60, (hour + 1) * 60):
            t = start + timedelta(minutes=m + 1)
            samples.append({"kind": "steps", "t": _z(t), "steps": 20, "interval_s": 60})
    return samples


async def _patient(conn: AsyncConnection[Any], team_id: uuid.UUID, n: int) -> tuple[uuid.UUID, str]:
    patient_id = await add_patient(
        conn,
        PatientIn(
            display_name=f"Scale {n}",
            birth_year=1960,
            tz=BERLIN,
            surgery_type="fusion",
            surgery_date=date.today() - timedelta(days=40),
            hr_limit_bpm=100,
        ),
        team_id=team_id,
    )
    _, token = await add_device(conn, patient_id=patient_id)
    return patient_id, token


def _today() -> date:
    return datetime.now(ZoneInfo(BERLIN)).date()


# --- in-process: batches and pacing -----------------------------------------------------------


async def test_one_statement_claims_a_batch_and_each_day_is_finished(db_url: str) -> None:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, "scale")
        patient_id, _ = await _patient(conn, team_id, 0)
        await conn.execute(
            "UPDATE patients SET monitoring_from = %s WHERE id = %s",
            (_today() - timedelta(days=9), patient_id),
        )
        queued = await queue_days(
            conn, patient_id=patient_id, first=_today() - timedelta(days=9), last=_today()
        )
        assert queued == 10
        options = WorkerOptions(batch_days=4)
        claims = await worker_loop._claim(
            conn, now=datetime.now(UTC), options=options, batch_days=options.batch_days
        )
        # Four days in calendar order, all claimed by this connection's backend.
        assert [c.day for c in claims] == [_today() - timedelta(days=9 - i) for i in range(4)]
        cur = await conn.execute(
            "SELECT count(*) FROM dirty_days WHERE claimed_by = pg_backend_pid()"
        )
        assert await cur.fetchone() == (4,)
    # A new connection (the old backend is gone): its claims are taken over, and every day done.
    async with make_pool(db_url, make_settings(db_url)) as pool:
        assert await drain(pool, options=options) == 10
    with psycopg.connect(db_url) as check:
        assert check.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)
        assert check.execute("SELECT count(*) FROM daily_summaries").fetchone() == (10,)


async def test_a_day_queued_again_by_its_batch_neighbour_is_computed_once(db_url: str) -> None:
    """The next day, queued again when this day's summary changes, is renewed before it is
    computed: one computation covers it (not one, then another for the new generation)."""
    first = _today() - timedelta(days=5)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, "scale")
        patient_id, _ = await _patient(conn, team_id, 0)
        await conn.execute(
            "UPDATE patients SET monitoring_from = %s WHERE id = %s", (first, patient_id)
        )
    async with make_pool(db_url, make_settings(db_url)) as pool:
        async with pool.connection() as conn:
            await queue_days(conn, patient_id=patient_id, first=first, last=first + timedelta(1))
        assert await drain(pool) == 2
        async with pool.connection() as conn:
            # The first day's stored summary differs from what it computes to: it changes.
            await conn.execute(
                "UPDATE daily_summaries SET summary = '{}'::jsonb WHERE day = %s", (first,)
            )
            await queue_days(conn, patient_id=patient_id, first=first, last=first + timedelta(1))
        assert await drain(pool) == 2
    with psycopg.connect(db_url) as check:
        assert check.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)


async def test_today_is_recomputed_at_most_once_per_interval_and_an_ended_day_never_waits(
    db_url: str,
) -> None:
    today, yesterday = _today(), _today() - timedelta(days=1)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, "scale")
        patient_id, _ = await _patient(conn, team_id, 0)
        await conn.execute(
            "UPDATE patients SET monitoring_from = %s WHERE id = %s", (yesterday, patient_id)
        )
    paced = WorkerOptions(today_interval_s=3600.0)
    async with make_pool(db_url, make_settings(db_url)) as pool:
        async with pool.connection() as conn:
            await queue_days(conn, patient_id=patient_id, first=yesterday, last=today)
        # Neither day has a summary yet: both are computed at once.
        assert await drain(pool, options=paced, pace_today=True) == 2
        with psycopg.connect(db_url, autocommit=True) as sync:
            # Yesterday stored as in progress just now (as if computed before midnight).
            sync.execute(
                "UPDATE daily_summaries SET status = 'in_progress' WHERE day = %s", (yesterday,)
            )
        async with pool.connection() as conn:
            # Dirtied again (new uploads, three times): one queue row per day.
            for _ in range(3):
                await queue_days(conn, patient_id=patient_id, first=yesterday, last=today)
        # The ended day does not wait; today, recomputed just now, waits for the interval.
        assert await drain(pool, options=paced, pace_today=True) == 1
        with psycopg.connect(db_url) as sync:
            rows = sync.execute("SELECT day FROM dirty_days").fetchall()
            assert rows == [(today,)]
        # An explicit drain (`rehab analyze`) and an interval of 0 take it at once.
        assert await drain(pool, options=paced) == 1
        async with pool.connection() as conn:
            await queue_days(conn, patient_id=patient_id, first=today, last=today)
        assert await drain(pool, options=WorkerOptions(today_interval_s=0), pace_today=True) == 1


async def test_todays_wait_is_spread_per_patient_so_refreshes_begun_together_drift_apart(
    db_url: str,
) -> None:
    today = _today()
    interval_s = 600.0
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, "spread")
        # The spread comes from the id's last byte: none for 0x00, the whole quarter for 0xff.
        ids = [uuid.UUID(int=(uuid.uuid4().int & ~0xFF) | last) for last in (0x00, 0xFF)]
        for n, pid in enumerate(ids):
            await conn.execute(
                "INSERT INTO patients (id, team_id, display_name, birth_year, tz, surgery_type,"
                " surgery_date, monitoring_from) VALUES (%s, %s, %s, 1960, 'UTC', 'fusion', %s,"
                " %s)",
                (pid, team_id, f"Spread {n}", today - timedelta(days=40), today),
            )
    paced = WorkerOptions(today_interval_s=interval_s)
    async with make_pool(db_url, make_settings(db_url)) as pool:
        async with pool.connection() as conn:
            for pid in ids:
                await queue_days(conn, patient_id=pid, first=today, last=today)
        assert await drain(pool, options=paced, pace_today=True) == 2
        with psycopg.connect(db_url, autocommit=True) as sync:
            # Both computed 1.1 intervals ago, then dirtied again by new uploads.
            sync.execute(
                "UPDATE daily_summaries SET status = 'in_progress',"
                " computed_at = now() - make_interval(secs => %s)",
                (1.1 * interval_s,),
            )
        async with pool.connection() as conn:
            for pid in ids:
                await queue_days(conn, patient_id=pid, first=today, last=today)
        # Past the interval, within the quarter: the first is taken, the second still waits.
        assert await drain(pool, options=paced, pace_today=True) == 1
        with psycopg.connect(db_url) as sync:
            assert sync.execute("SELECT patient_id FROM dirty_days").fetchall() == [(ids[1],)]
            sync.execute(
                "UPDATE daily_summaries SET computed_at = now() - make_interval(secs => %s)"
                " WHERE patient_id = %s",
                (1.26 * interval_s, ids[1]),
            )
            sync.commit()
        # Past its interval and its whole spread: taken too.
        assert await drain(pool, options=paced, pace_today=True) == 1


# --- processes: two `rehab worker`, two `rehab serve` ------------------------------------------


class _Process:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(REHAB), *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, ready: Any) -> None:
        deadline = time.monotonic() + _START_LIMIT_S
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode}: {self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"did not start: {self.log()[-3000:]}")
            time.sleep(_POLL_S)

    def end(self, signum: signal.Signals) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


def _healthy(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    return False


@contextlib.contextmanager
def _fleet(db_url: str, tmp_path: Path) -> Iterator[tuple[list[str], list[_Process]]]:
    env = rehab_env(
        REHAB_DATABASE_URL=db_url,
        REHAB_SECRET_KEY=TEST_SECRET_KEY,
        REHAB_LOG_LEVEL="WARNING",
        REHAB_RUN_WORKER="true",
        REHAB_RUN_NOTIFIER="true",
        REHAB_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",
        # Digests go out within a second or two, so the test sees every delivery.
        REHAB_NOTIFY_DIGEST_INTERVAL_S="1",
        # Small batches, so that the four workers' claims interleave.
        REHAB_WORKER_BATCH_DAYS="3",
    )
    processes: list[_Process] = []
    urls: list[str] = []
    try:
        for n in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            serve = _Process(
                ["serve", "--host", "127.0.0.1", "--port", str(port)],
                env,
                tmp_path / f"serve{n}.log",
            )
            processes.append(serve)
            serve.wait_for(lambda url=url: _healthy(url))
            urls.append(url)
        for n in range(2):
            worker = _Process(
                ["worker", "--concurrency", "2"], {**env, "COLUMNS": "200"}, tmp_path / f"w{n}.log"
            )
            processes.append(worker)
            worker.wait_for(lambda worker=worker: "analysis worker started" in worker.log())
        yield urls, processes
    finally:
        for process in processes:
            process.end(signal.SIGKILL)


def _upload(url: str, token: str, samples: list[dict[str, object]], batch_id: str) -> None:
    response = httpx.post(
        f"{url}/v1/ingest",
        content=orjson.dumps({"batch_id": batch_id, "samples": samples}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text


def _settled(db_url: str, days: set[tuple[uuid.UUID, date]]) -> bool:
    with psycopg.connect(db_url) as conn:
        # Today's row may wait for the today interval; every ended day must be done.
        queued = conn.execute(
            "SELECT count(*) FROM dirty_days WHERE day < %s", (_today(),)
        ).fetchone()
        pending = conn.execute(
            "SELECT count(*) FROM notification_deliveries WHERE status = 'pending'"
        ).fetchone()
        summarised = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT patient_id, day FROM daily_summaries WHERE status <> 'in_progress'"
            )
        }
        alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return (
        queued == (0,)
        and pending == (0,)
        and days <= summarised
        and alerts is not None
        and alerts[0] > 0
    )


async def test_two_workers_and_two_servers_lose_no_day_and_duplicate_nothing(
    db_url: str, tmp_path: Path
) -> None:
    days = [_today() - timedelta(days=d) for d in (4, 3, 2)]
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        team_id = await ensure_team(conn, "scale")
        hubs = [await _patient(conn, team_id, n) for n in range(4)]
    with webhook_receiver(200) as receiver:
        async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
            await add_target(
                conn,
                team_id=team_id,
                target=TargetIn(kind="webhook", address=receiver.url),
                box=secret_box(make_settings(db_url)),
                smtp_configured=False,
                allow_private_webhooks=True,
            )
        with _fleet(db_url, tmp_path) as (urls, processes):
            # Every hub uploads each day in four batches, alternating between the two servers;
            # the first day is hard (an HR_OVER_LIMIT episode); one batch per hub is re-sent and
            # one late batch lands in an early day after the others.
            jobs: list[tuple[str, str, list[dict[str, object]], str]] = []
            for h, (_, token) in enumerate(hubs):
                for d, day in enumerate(days):
                    for part in range(4):
                        hours = range(part * 2, part * 2 + 2)
                        samples = _day_samples(day, hard=d == 0, hours=hours)
                        batch = str(uuid.uuid4())
                        jobs.append((urls[(h + d + part) % 2], token, samples, batch))
                        if part == 0 and d == 1:
                            jobs.append((urls[(h + 1) % 2], token, samples, batch))
            late = [
                (
                    urls[h % 2],
                    token,
                    _day_samples(days[0], hard=False, hours=range(8, 11)),
                    str(uuid.uuid4()),
                )
                for h, (_, token) in enumerate(hubs)
            ]
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda job: _upload(*job), jobs))
                list(pool.map(lambda job: _upload(*job), late))
            touched = {(patient_id, day) for patient_id, _ in hubs for day in days}
            deadline = time.monotonic() + _SETTLE_LIMIT_S
            while not _settled(db_url, touched):
                assert time.monotonic() < deadline, "the fleet did not settle"
                await asyncio.sleep(_POLL_S)
            # Clean stops: SIGINT (Ctrl-C) for the workers, SIGTERM for the servers.
            for process in processes[2:]:
                assert process.end(signal.SIGINT) == 0, process.log()
                assert "analysis worker stopped" in process.log()
            for process in processes[:2]:
                # uvicorn shuts down gracefully, then ends by the signal it was given.
                assert process.end(signal.SIGTERM) in (0, -signal.SIGTERM), process.log()
        with psycopg.connect(db_url) as conn:
            rows = conn.execute(
                "SELECT patient_id, day, analysis_version, summary FROM daily_summaries"
                " WHERE status <> 'in_progress'"
            ).fetchall()
            by_day = {(r[0], r[1]): r for r in rows}
            for key in touched:
                _, day, version, summary = by_day[key]
                assert version == analysis.ANALYSIS_VERSION
                # The final data: the hard minutes, 8 worn hours a day and 11 on the first
                # (its late batch included).
                assert summary["heart_rate"]["max"] == (140 if day == days[0] else 75)
                assert summary["wear_minutes"] == (11 if day == days[0] else 8) * 60
            ended = conn.execute("SELECT count(*) FROM dirty_days WHERE day < %s", (_today(),))
            assert ended.fetchone() == (0,)
            # One episode per patient and rule, ever (nothing was resolved).
            episodes = conn.execute(
                "SELECT patient_id, rule, count(*) FROM alerts GROUP BY 1, 2"
            ).fetchall()
            assert all(n == 1 for _, _, n in episodes), episodes
            hr = {p for p, rule, _ in episodes if rule == "HR_OVER_LIMIT"}
            assert hr == {patient_id for patient_id, _ in hubs}
            # One delivery per alert and target, each sent once to the receiver.
            deliveries = conn.execute(
                "SELECT a, count(*) FROM notification_deliveries, unnest(alert_ids) a"
                " WHERE NOT reminder GROUP BY target_id, a"
            ).fetchall()
            assert deliveries
            assert all(n == 1 for _, n in deliveries), deliveries
            alert_ids = {
                r[0]
                for r in conn.execute("SELECT id FROM alerts WHERE notify IN ('now', 'digest')")
            }
            assert {a for a, _ in deliveries} == alert_ids
            sent = conn.execute(
                "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'"
            ).fetchone()
            assert sent == (len(receiver.requests),)
