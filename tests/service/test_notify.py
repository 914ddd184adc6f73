"""Notifications: signed webhooks (checked independently), retries with backoff and a delivery
log, e-mail to a local SMTP server, digests, and a red-flag check-in notifying within the request."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from uuid import UUID

import orjson
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.db import make_pool
from service.notify import (
    Notifier,
    RetryPolicy,
    TargetIn,
    add_target,
    queue_alert,
    verify_signature,
)
from service.secretbox import secret_box
from tests.fixtures.service import World, make_settings
from tests.service.notify_helpers import smtp_server, webhook_receiver


async def _add_target(world: World, kind: str, address: str) -> str | None:
    response = await world.client.post(
        f"/v1/teams/{world.team_id}/notification-targets",
        json={"kind": kind, "address": address},
        headers=world.auth(world.admin_token),
    )
    assert response.status_code == 201, response.text
    secret: str | None = response.json()["secret"]
    return secret


async def _add_email_target(world: World, address: str) -> None:
    """An e-mail target as stored while SMTP was configured (the API refuses one without)."""
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        assert world.team_id is not None
        await add_target(
            conn,
            team_id=world.team_id,
            target=TargetIn(kind="email", address=address),
            box=secret_box(make_settings(world.db_url)),
            smtp_configured=True,
            allow_private_webhooks=True,
        )


def _independent_check(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), fields["v1"])


async def test_red_flag_checkin_notifies_within_the_request(world: World) -> None:
    with webhook_receiver(200) as receiver:
        secret = await _add_target(world, "webhook", receiver.url)
        assert secret is not None
        response = await world.client.post(
            f"/v1/patients/{world.patient_id}/checkins",
            json={"pain_0_10": 8, "red_flags": ["numbness_or_weakness"], "note": "left leg"},
            headers=world.auth(world.patient_token),
        )
        assert response.status_code == 201, response.text
        assert response.json()["urgent_notifications"] == 1
        assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert _independent_check(secret, headers["rehab-signature"], body)
    assert verify_signature(
        secret, header=headers["rehab-signature"], body=body, now_s=int(time.time())
    )
    assert not _independent_check("wrong secret", headers["rehab-signature"], body)
    payload = orjson.loads(body)
    assert payload["type"] == "alert"
    [alert] = payload["alerts"]
    assert (alert["rule"], alert["severity"], alert["patient_id"]) == (
        "RED_FLAG_SYMPTOM",
        "urgent",
        str(world.patient_id),
    )
    # No health data leaves by webhook: neither the symptom, the pain score nor the note.
    assert b"numbness" not in body
    assert b"left leg" not in body
    log = await world.client.get(
        "/v1/notification-deliveries", headers=world.auth(world.clinician_token)
    )
    assert [(d["status"], d["attempts"]) for d in log.json()] == [("sent", 1)]
    alerts = await world.client.get(
        "/v1/alerts", params={"severity": "urgent"}, headers=world.auth(world.clinician_token)
    )
    assert [a["rule"] for a in alerts.json()] == ["RED_FLAG_SYMPTOM"]


async def _queue(world: World, *, digest: bool, rule: str = "HR_OVER_LIMIT") -> int:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day, last_day,"
            " message, notify) VALUES (%s, %s, %s, 'analysis', %s, '2026-05-10', '2026-05-10',"
            " 'm', %s) RETURNING id",
            (
                world.patient_id,
                world.team_id,
                rule,
                "warning" if digest else "urgent",
                "digest" if digest else "now",
            ),
        )
        row = await cur.fetchone()
        assert row is not None
        await queue_alert(
            conn, alert_id=row[0], team_id=world.team_id, digest=digest, digest_interval_s=3600
        )
        if digest:  # the digest is due at the next full hour: bring it forward
            await conn.execute("UPDATE notification_deliveries SET due_at = now()")
        return int(row[0])


def _notifier(pool: AsyncConnectionPool[Any], db_url: str, **settings: Any) -> Notifier:
    # Zero backoff so that each retry is due at once; the policy's arithmetic is tested below.
    return Notifier(
        pool, make_settings(db_url, **settings), retry=RetryPolicy(base_s=0, max_attempts=3)
    )


async def _attempts(db_url: str) -> list[tuple[Any, ...]]:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT attempt, ok, status_code FROM notification_attempts ORDER BY attempt"
        )
        return await cur.fetchall()


async def test_webhook_retried_after_two_failures_then_logged_as_sent(world: World) -> None:
    with webhook_receiver(500, 503, 200) as receiver:
        await _add_target(world, "webhook", receiver.url)
        await _queue(world, digest=False)
        async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
            notifier = _notifier(pool, world.db_url)
            sent = [await notifier.deliver_due() for _ in range(4)]
            await notifier.stop()
    assert sent == [0, 0, 1, 0]
    assert await _attempts(world.db_url) == [(1, False, 500), (2, False, 503), (3, True, 200)]
    ids = {r[0]["rehab-delivery"] for r in receiver.requests}
    assert len(ids) == 1  # a retry keeps its delivery id, so receivers can de-duplicate


async def test_webhook_gives_up_after_the_attempt_budget(world: World) -> None:
    with webhook_receiver(500) as receiver:
        await _add_target(world, "webhook", receiver.url)
        await _queue(world, digest=False)
        async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
            notifier = _notifier(pool, world.db_url)
            for _ in range(5):
                await notifier.deliver_due()
            await notifier.stop()
    assert len(receiver.requests) == 3
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT status, attempts, last_error FROM notification_deliveries")
        assert await cur.fetchall() == [("failed", 3, "HTTP 500")]


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base_s=30, max_s=300)
    assert [policy.delay_s(n) for n in range(1, 6)] == [30, 60, 120, 240, 300]


async def test_inline_notification_does_not_wait_for_a_slow_receiver(world: World) -> None:
    with webhook_receiver(200, hold=True) as receiver:
        await _add_target(world, "webhook", receiver.url)
        await _queue(world, digest=False)
        async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
            cur = await conn.execute("SELECT id FROM notification_deliveries")
            ids = [r[0] for r in await cur.fetchall()]
        async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
            notifier = _notifier(pool, world.db_url, notify_inline_timeout_s=0.05)
            await notifier.notify_soon(ids)
            # Returned while the receiver still holds the request: the delivery is not settled.
            assert await _attempts(world.db_url) == []
            receiver.release.set()
            await notifier.stop()  # waits for the background delivery to finish
    assert await _attempts(world.db_url) == [(1, True, 200)]


async def test_digest_email_reaches_a_local_smtp_server(world: World) -> None:
    with smtp_server() as (port, inbox):
        await _add_email_target(world, "spine-team@clinic.example")
        first = await _queue(world, digest=True, rule="HR_OVER_LIMIT")
        second = await _queue(world, digest=True, rule="DAILY_OVER_TARGET")
        settings = {"smtp_host": "127.0.0.1", "smtp_port": port}
        async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
            notifier = _notifier(pool, world.db_url, **settings)
            assert await notifier.deliver_due() == 1
            await notifier.stop()
        assert inbox.arrived.wait(timeout=10)
    [(recipients, message)] = inbox.messages
    assert recipients == ["spine-team@clinic.example"]
    assert message["Subject"] == "Rehab Monitor: 2 new alert(s)"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode()
    assert f"alert {first}:" in text
    assert f"alert {second}:" in text
    assert str(world.patient_id) in text


async def test_email_without_smtp_settings_is_logged_as_failed_attempt(world: World) -> None:
    await _add_email_target(world, "spine-team@clinic.example")
    await _queue(world, digest=False)
    async with make_pool(world.db_url, make_settings(world.db_url)) as pool:
        notifier = _notifier(pool, world.db_url)
        assert await notifier.deliver_due() == 0
        await notifier.stop()
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT error FROM notification_attempts")
        assert await cur.fetchall() == [("SMTP is not configured (REHAB_SMTP_HOST)",)]


async def test_a_switched_off_target_gets_nothing(world: World) -> None:
    await _add_email_target(world, "old@clinic.example")
    admin = world.auth(world.admin_token)
    base = f"/v1/teams/{world.team_id}/notification-targets"
    [target] = (await world.client.get(base, headers=admin)).json()
    response = await world.client.patch(
        f"{base}/{target['id']}", json={"active": False}, headers=admin
    )
    assert response.json()["active"] is False
    await _queue(world, digest=False)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM notification_deliveries")
        assert await cur.fetchone() == (0,)
    other = await world.client.patch(
        f"/v1/teams/{world.other_team_id}/notification-targets/{target['id']}",
        json={"active": True},
        headers=admin,
    )
    assert other.status_code == 404


async def test_targets_are_per_team(world: World) -> None:
    with webhook_receiver(200) as receiver:
        await _add_target(world, "webhook", receiver.url)
        async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
            ids = await queue_alert(
                conn,
                alert_id=1,
                team_id=world.other_team_id or UUID(int=0),
                digest=False,
                digest_interval_s=3600,
            )
    assert ids == []
