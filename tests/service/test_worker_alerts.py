"""End to end through the worker: samples in, the day analysed, its flag an alert episode that
two calm complete days clear (cleared, not reviewed) and an acknowledgement resolves."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import orjson
from psycopg import AsyncConnection

from service.db import make_pool
from service.worker import DEFAULT_OPTIONS, WorkerOptions, drain
from tests.fixtures.service import World, make_settings


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _day(start: datetime, *, hard: bool) -> list[dict[str, object]]:
    """Eleven worn hours at 75 bpm (a judged day needs 10); with ``hard``, 20 minutes at 140 bpm
    walking in the second."""
    samples: list[dict[str, object]] = []
    for s in range(0, 11 * 3600, 10):
        bpm = 140 if hard and 3600 <= s < 3600 + 1200 else 75
        samples.append({"kind": "heart_rate", "t": _z(start + timedelta(seconds=s)), "bpm": bpm})
    for m in range(11 * 60):
        steps = 100 if 60 <= m < 80 else 5
        t = start + timedelta(minutes=m + 1)
        samples.append({"kind": "steps", "t": _z(t), "steps": steps, "interval_s": 60})
    return samples


async def _ingest_and_drain(
    world: World, samples: list[dict[str, object]], options: WorkerOptions = DEFAULT_OPTIONS
) -> None:
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}),
        headers={**world.auth(world.device_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
        await drain(pool, options=options)


async def test_a_flagged_day_opens_an_alert_and_two_calm_days_clear_it(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    response = await world.client.patch(
        f"/v1/patients/{world.patient_id}", json={"hr_limit_bpm": 100}, headers=nurse
    )
    assert response.status_code == 200
    response = await world.client.post(
        f"/v1/teams/{world.team_id}/notification-targets",
        json={"kind": "webhook", "address": "https://pager.clinic.example/rehab"},
        headers=world.auth(world.admin_token),
    )
    assert response.status_code == 201
    # 07:00 UTC is 09:00 in Berlin: the whole day (to 20:00) is inside 2026-05-10 local.
    await _ingest_and_drain(world, _day(datetime(2026, 5, 10, 7, tzinfo=UTC), hard=True))
    alerts = (await world.client.get("/v1/alerts", headers=nurse)).json()
    assert [(a["rule"], a["state"], a["first_day"], a["notify"]) for a in alerts] == [
        ("HR_OVER_LIMIT", "open", "2026-05-10", "digest")
    ]
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT digest, status FROM notification_deliveries")
        assert await cur.fetchall() == [(True, "pending")]
    await _ingest_and_drain(world, _day(datetime(2026, 5, 11, 7, tzinfo=UTC), hard=False))
    [alert] = [a for a in (await world.client.get("/v1/alerts", headers=nurse)).json()]
    assert alert["state"] == "open"  # one calm day is not yet a cleared condition
    await _ingest_and_drain(world, _day(datetime(2026, 5, 12, 7, tzinfo=UTC), hard=False))
    alerts = (await world.client.get("/v1/alerts", headers=nurse)).json()
    [alert] = [a for a in alerts if a["rule"] == "HR_OVER_LIMIT"]
    assert (alert["state"], alert["cleared_on"]) == ("cleared", date(2026, 5, 12).isoformat())
    assert alert["resolved_at"] is None
    response = await world.client.post(
        f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "seen"}, headers=nurse
    )
    assert response.status_code == 200
    assert response.json()["state"] == "resolved"
    assert response.json()["resolve_note"] == "reviewed after the condition cleared on 2026-05-12"


async def test_the_worker_clears_alerts_after_the_configured_number_of_calm_days(
    world: World,
) -> None:
    # REHAB_ALERT_CLEAR_DAYS=1 and the digest interval reach the worker through its options.
    settings = make_settings(world.db_url, alert_clear_days=1, notify_digest_interval_s=600)
    options = WorkerOptions.from_settings(settings)
    assert (options.alert_clear_days, options.digest_interval_s) == (1, 600)
    nurse = world.auth(world.clinician_token)
    response = await world.client.patch(
        f"/v1/patients/{world.patient_id}", json={"hr_limit_bpm": 100}, headers=nurse
    )
    assert response.status_code == 200
    await _ingest_and_drain(world, _day(datetime(2026, 5, 10, 7, tzinfo=UTC), hard=True), options)
    await _ingest_and_drain(world, _day(datetime(2026, 5, 11, 7, tzinfo=UTC), hard=False), options)
    [alert] = [
        a
        for a in (await world.client.get("/v1/alerts", headers=nurse)).json()
        if a["rule"] == "HR_OVER_LIMIT"
    ]
    # One calm complete day is enough with this setting (two with the default, above).
    assert (alert["state"], alert["cleared_on"]) == ("cleared", "2026-05-11")
