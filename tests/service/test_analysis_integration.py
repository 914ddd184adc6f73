"""The worker runs the analysis engine on stored samples; the API serves summaries, sessions, progress."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from analysis.simulate import simulate_days
from service.db import make_pool
from service.worker import day_bounds, drain, queue_missing_days
from tests.fixtures.service import World, make_settings

TZ = "Europe/Berlin"
FIRST = date(2026, 4, 6)  # world's patient had fusion surgery on 2026-03-02: week 6


def _z(t_s: float) -> str:
    return datetime.fromtimestamp(round(t_s, 3), tz=UTC).isoformat().replace("+00:00", "Z")


def _wire(samples: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"kind": "heart_rate", "t": _z(t), "bpm": round(b)}
        for t, b in zip(samples["hr_t_s"], samples["hr_bpm"], strict=True)
    ]
    out += [
        {"kind": "steps", "t": _z(t), "steps": int(n), "interval_s": int(i)}
        for t, n, i in zip(
            samples["steps_end_t_s"],
            samples["steps_count"],
            samples["steps_interval_s"],
            strict=True,
        )
    ]
    out += [
        {"kind": "bike", "t": _z(t), "rpm": float(r), "power_w": int(p)}
        for t, r, p in zip(
            samples["bike_t_s"], samples["bike_rpm"], samples["bike_power_w"], strict=True
        )
    ]
    return out


async def _ingest_days(world: World, n_days: int, *, seed: int = 5, walk_min: float = 25.0) -> None:
    start_s = day_bounds(FIRST, TZ).start_s
    days = simulate_days(
        seed=seed,
        n_days=n_days,
        first_day_start_s=start_s,
        daily_walk_min=walk_min,
        non_wear_day_probability=0.0,
    )
    for sim in days:
        response = await world.client.post(
            "/v1/ingest",
            content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": _wire(sim.samples)}),
            headers=world.auth(world.device_token),
        )
        assert response.status_code == 200, response.text


async def _drain(db_url: str) -> int:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(db_url, make_settings(db_url))
    async with pool:
        return await drain(pool)


async def test_full_summary_sessions_and_progress(world: World) -> None:
    await _ingest_days(world, 3)
    assert await _drain(world.db_url) >= 3
    headers = world.auth(world.clinician_token)
    base = f"/v1/patients/{world.patient_id}"
    day = (
        await world.client.get(f"{base}/days/{FIRST + timedelta(days=1)}", headers=headers)
    ).json()
    assert day["date"] == str(FIRST + timedelta(days=1))
    assert day["status"] in ("below", "on_track", "above")
    assert day["targets"]["week"] == 6
    assert day["analysis_version"].startswith("analysis-")
    assert day["sessions"], "a simulated day with 25 walking minutes has a session"
    assert {"min", "avg", "max", "resting_bpm", "limit_bpm"} <= set(day["heart_rate"])
    assert day["aerobic_minutes"] <= day["active_minutes"] <= day["wear_minutes"]

    sessions = (
        await world.client.get(
            f"{base}/sessions",
            params={"from": str(FIRST), "to": str(FIRST + timedelta(days=2))},
            headers=headers,
        )
    ).json()
    assert sessions
    assert all(s["date"] in {str(FIRST + timedelta(days=i)) for i in range(3)} for s in sessions)
    assert all(s["kind"] in ("walking", "biking", "running") for s in sessions)

    weeks = (await world.client.get(f"{base}/progress", headers=headers)).json()
    assert [w["week"] for w in weeks] == [6]
    assert weeks[0]["days_with_summary"] >= 3

    # Before monitoring start (the first day with data here) a day is "not monitored"; a day
    # after the patient's today does not exist yet.
    before = await world.client.get(f"{base}/days/2026-01-01", headers=headers)
    assert before.status_code == 200
    assert before.json() == {"date": "2026-01-01", "status": "not_monitored", "checkins": []}
    future = await world.client.get(f"{base}/days/2099-01-01", headers=headers)
    assert future.status_code == 404
    other = await world.client.get(
        f"{base}/progress", headers=world.auth(world.other_clinician_token)
    )
    assert other.status_code == 404


async def test_plan_override_requeues_and_changes_judgement(world: World) -> None:
    await _ingest_days(world, 2)
    await _drain(world.db_url)
    day2 = FIRST + timedelta(days=1)
    with psycopg.connect(world.db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO plan_overrides (patient_id, effective_from, aerobic_min_low, aerobic_min_high,"
            " note) VALUES (%s, %s, 200, 240, 'test')",
            (world.patient_id, day2),
        )
        queued = {row[0] for row in conn.execute("SELECT day FROM dirty_days").fetchall()}
    # Only days from the override on are judged again.
    assert day2 in queued
    assert FIRST not in queued
    await _drain(world.db_url)
    headers = world.auth(world.clinician_token)
    base = f"/v1/patients/{world.patient_id}/days"
    before = (await world.client.get(f"{base}/{FIRST}", headers=headers)).json()
    after = (await world.client.get(f"{base}/{day2}", headers=headers)).json()
    assert before["targets"]["override_from"] is None
    assert after["targets"]["override_from"] == str(day2)
    assert after["targets"]["aerobic_min_low"] == 200
    assert after["status"] == "below"


async def test_days_without_data_are_judged_too(world: World) -> None:
    # The hub was enrolled today; a first sample arrives for yesterday only. The sweep queues
    # every day after the newest summary up to today, so today gets a summary without data: in
    # progress, since it has not ended.
    yesterday = datetime.now(UTC).astimezone(ZoneInfo(TZ)).date() - timedelta(days=1)
    t = day_bounds(yesterday, TZ).start + timedelta(hours=12)
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps(
            {
                "batch_id": str(uuid.uuid4()),
                "samples": [{"kind": "heart_rate", "t": _z(t.timestamp()), "bpm": 70}],
            }
        ),
        headers=world.auth(world.device_token),
    )
    assert response.status_code == 200
    await _drain(world.db_url)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert await queue_missing_days(conn) >= 1
    await _drain(world.db_url)
    with psycopg.connect(world.db_url) as conn:
        rows = conn.execute(
            "SELECT day, status FROM daily_summaries WHERE patient_id = %s ORDER BY day",
            (world.patient_id,),
        ).fetchall()
    statuses: dict[date, str] = dict(rows)
    assert min(statuses) == yesterday
    assert statuses == {
        yesterday: "insufficient_data",
        yesterday + timedelta(days=1): "in_progress",
    }


def test_rehab_analyze_backfills_with_progress(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('t') RETURNING id").fetchone()
        assert team is not None
        row = conn.execute(
            "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type, surgery_date)"
            " VALUES (%s, 'P', 1960, %s, 'fusion', '2026-04-01') RETURNING id",
            (team[0], TZ),
        ).fetchone()
        assert row is not None
        patient_id = UUID(str(row[0]))
        # As if the patient's band had sent data from 2026-03-30 on (days before are never judged).
        conn.execute(
            "UPDATE patients SET monitoring_from = '2026-03-30' WHERE id = %s", (patient_id,)
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    env["REHAB_DATABASE_URL"] = db_url
    rehab = Path(sys.executable).parent / "rehab"
    result = subprocess.run(
        [
            str(rehab),
            "analyze",
            "--patient",
            str(patient_id),
            "--from",
            "2026-04-01",
            "--to",
            "2026-04-10",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "recomputed 10 patient-days" in result.stdout
    bad = subprocess.run(
        [
            str(rehab),
            "analyze",
            "--patient",
            str(patient_id),
            "--from",
            "2026-04-10",
            "--to",
            "2026-04-01",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "--from must not be after --to" in bad.stderr
    with psycopg.connect(db_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM daily_summaries WHERE patient_id = %s", (patient_id,)
        ).fetchone()
    assert count == (10,)


async def test_patch_of_heart_rate_settings_requeues_summarised_days(world: World) -> None:
    await _ingest_days(world, 2)
    await _drain(world.db_url)
    response = await world.client.patch(
        f"/v1/patients/{world.patient_id}",
        json={"hr_limit_bpm": 95, "beta_blocker": True},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200, response.text
    with psycopg.connect(world.db_url) as conn:
        queued = {row[0] for row in conn.execute("SELECT day FROM dirty_days").fetchall()}
    assert {FIRST, FIRST + timedelta(days=1)} <= queued
    await _drain(world.db_url)
    day = (
        await world.client.get(
            f"/v1/patients/{world.patient_id}/days/{FIRST}",
            headers=world.auth(world.clinician_token),
        )
    ).json()
    # Beta-blocker patients are judged without heart-rate rules.
    assert day["heart_rate"]["rules_active"] is False
    # A change of the display name alone does not requeue anything.
    await world.client.patch(
        f"/v1/patients/{world.patient_id}",
        json={"display_name": "Renamed"},
        headers=world.auth(world.clinician_token),
    )
    with psycopg.connect(world.db_url) as conn:
        assert conn.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)
