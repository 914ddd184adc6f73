"""Notifications one can act on: a link to the patient's alerts in every webhook and e-mail, no
health data; e-mail targets need SMTP settings; no data since enrolment raises one warning."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from psycopg import AsyncConnection
from typer.testing import CliRunner

from service.alerts import alert_target, check_enrolments, raise_alert
from service.cli.context import CliState
from service.cli.main import app
from service.db import make_pool
from service.notify import EMAIL_NEEDS_SMTP, Notifier, TargetIn, add_target
from service.secretbox import secret_box
from tests.fixtures.service import World, make_settings
from tests.service.notify_helpers import smtp_server, webhook_receiver

PUBLIC = "https://rehab.clinic.example"


async def _raise(world: World, *, severity: str) -> int:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        target = await alert_target(conn, world.patient_id)
        assert target is not None
        await raise_alert(
            conn,
            target,
            rule="HR_OVER_LIMIT",
            source="analysis",
            severity=severity,
            day=date(2026, 11, 30),
            message="Heart rate 151 bpm over the limit of 120 bpm for 12 minutes",
            digest_interval_s=3600,
        )
        await conn.execute("UPDATE notification_deliveries SET due_at = now()")
        cur = await conn.execute("SELECT id FROM alerts")
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


async def _store_target(world: World, kind: str, address: str) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert world.team_id is not None
        await add_target(
            conn,
            team_id=world.team_id,
            target=TargetIn(kind=kind, address=address),  # type: ignore[arg-type]
            box=secret_box(make_settings(world.db_url)),
            smtp_configured=True,
            allow_private_webhooks=True,
        )


async def test_the_webhook_body_links_to_the_patients_alerts(world: World) -> None:
    with webhook_receiver(200) as receiver:
        await _store_target(world, "webhook", receiver.url)
        alert_id = await _raise(world, severity="urgent")
        settings = make_settings(world.db_url, public_url=PUBLIC + "/")
        async with make_pool(world.db_url, settings) as pool:
            notifier = Notifier(pool, settings)
            assert await notifier.deliver_due() == 1
            await notifier.stop()
    [(_, body)] = receiver.requests
    [alert] = orjson.loads(body)["alerts"]
    assert alert["alert_id"] == alert_id
    assert alert["url"] == f"{PUBLIC}/patients/{world.patient_id}#alerts"
    # Still no health data: no name, no figures, no message text.
    for secret in (b"Berlin", b"151", b"120", b"Heart rate"):
        assert secret not in body


async def test_the_email_links_to_the_patients_alerts(world: World) -> None:
    with smtp_server() as (port, inbox):
        await _store_target(world, "email", "spine-team@clinic.example")
        await _raise(world, severity="warning")
        settings = make_settings(
            world.db_url, public_url=PUBLIC, smtp_host="127.0.0.1", smtp_port=port
        )
        async with make_pool(world.db_url, settings) as pool:
            notifier = Notifier(pool, settings)
            assert await notifier.deliver_due() == 1
            await notifier.stop()
        assert inbox.arrived.wait(timeout=10)
    [(_, message)] = inbox.messages
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode()
    assert f"{PUBLIC}/patients/{world.patient_id}#alerts" in text
    assert "Berlin" not in text
    assert "151" not in text


async def test_an_email_target_without_smtp_is_refused_with_the_reason(world: World) -> None:
    response = await world.client.post(
        f"/v1/teams/{world.team_id}/notification-targets",
        json={"kind": "email", "address": "spine-team@clinic.example"},
        headers=world.auth(world.admin_token),
    )
    assert response.status_code == 422
    assert "REHAB_SMTP_HOST is not set" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "kind"]
    listed = await world.client.get(
        f"/v1/teams/{world.team_id}/notification-targets", headers=world.auth(world.admin_token)
    )
    assert listed.json() == []
    result = CliRunner().invoke(
        app,
        ["team", "notify", "north", "--email", "spine-team@clinic.example"],
        obj=CliState(make_settings(world.db_url)),
    )
    assert result.exit_code == 2
    assert "REHAB_SMTP_HOST" in result.output
    assert EMAIL_NEEDS_SMTP.startswith("e-mail targets need an SMTP server")


async def test_the_notifier_reports_stored_email_targets_it_cannot_send(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await _store_target(world, "email", "spine-team@clinic.example")
    settings = make_settings(world.db_url)
    async with make_pool(world.db_url, settings) as pool:
        notifier = Notifier(pool, settings)
        with caplog.at_level(logging.WARNING, logger="service.notify._deliver"):
            assert await notifier.report_unsendable() == 1
        configured = Notifier(pool, make_settings(world.db_url, smtp_host="127.0.0.1"))
        assert await configured.report_unsendable() == 0
    [record] = caplog.records
    assert record.getMessage() == (
        "1 active e-mail notification target(s) cannot be sent: REHAB_SMTP_HOST is not set"
    )
    assert "spine-team" not in record.getMessage()


async def _enrolment_alerts(world: World) -> list[tuple[object, ...]]:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT patient_id, source, severity, state, first_day, cleared_on, notify"
            " FROM alerts WHERE rule = 'NO_DATA_SINCE_ENROLMENT'"
        )
        return await cur.fetchall()


async def _check(world: World, now: datetime) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await check_enrolments(conn, now=now, no_data_after_days=2, digest_interval_s=3600)


async def test_no_data_since_enrolment_warns_once_and_clears_when_data_arrives(
    world: World,
) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT created_at FROM devices WHERE patient_id = %s", (world.patient_id,)
        )
        row = await cur.fetchone()
        assert row is not None
        enrolled: datetime = row[0]
    await _check(world, enrolled + timedelta(days=1))
    assert await _enrolment_alerts(world) == []
    await _check(world, enrolled + timedelta(days=2, minutes=1))
    [(patient, source, severity, state, first_day, cleared_on, notify)] = await _enrolment_alerts(
        world
    )
    assert (patient, source, severity, state, cleared_on, notify) == (
        world.patient_id,
        "monitoring",
        "warning",
        "open",
        None,
        "digest",
    )
    assert first_day == enrolled.astimezone(ZoneInfo("Europe/Berlin")).date()
    nurse = world.auth(world.clinician_token)
    [alert] = (await world.client.get("/v1/alerts", headers=nurse)).json()
    assert alert["message"] == "No data since enrolment: is the hub set up?"
    # Once: checking again raises nothing new (the other patient has no device at all).
    await _check(world, enrolled + timedelta(days=5))
    assert len(await _enrolment_alerts(world)) == 1
    sample = {"kind": "heart_rate", "t": "2026-12-01T10:00:00Z", "bpm": 70}
    response = await world.client.post(
        "/v1/ingest",
        content=orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": [sample]}),
        headers={**world.auth(world.device_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    await _check(world, enrolled + timedelta(days=6))
    [(_, _, _, state, _, cleared_on, _)] = await _enrolment_alerts(world)
    assert state == "cleared"
    assert cleared_on is not None
    await _check(world, enrolled + timedelta(days=7))
    assert len(await _enrolment_alerts(world)) == 1
