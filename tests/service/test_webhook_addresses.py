"""Webhook targets may point only at public internet addresses, unless the clinic allows private ones.

Checked when the target is added (API and CLI) and again at delivery, since a name can resolve
elsewhere later. No test sends traffic anywhere but loopback: refused addresses are never
contacted, and the allowed delivery goes to the local receiver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from psycopg import AsyncConnection
from typer.testing import CliRunner

from service.api import create_app
from service.cli.context import CliState
from service.cli.main import app
from service.db import make_pool
from service.notify import Notifier, RetryPolicy, TargetIn, add_target, queue_alert
from service.notify._address import WebhookAddressRefused, check_webhook_address
from service.secretbox import secret_box
from tests.fixtures.service import World, make_settings
from tests.service.notify_helpers import webhook_receiver


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
async def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(WebhookAddressRefused):
        await check_webhook_address(url, allow_private=False)
    await check_webhook_address(url, allow_private=True)


async def test_public_literal_addresses_pass() -> None:
    await check_webhook_address("https://93.184.215.14/hook", allow_private=False)
    await check_webhook_address("https://[2606:4700::1111]/hook", allow_private=False)


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(WebhookAddressRefused, match="does not resolve"):
        await check_webhook_address("https://pager.clinic.invalid/hook", allow_private=False)


@asynccontextmanager
async def _client(db_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db_url, **settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


async def _add(client: httpx.AsyncClient, world: World, address: str) -> httpx.Response:
    return await client.post(
        f"/v1/teams/{world.team_id}/notification-targets",
        json={"kind": "webhook", "address": address},
        headers=world.auth(world.admin_token),
    )


async def test_the_api_refuses_a_loopback_webhook_unless_allowed(world: World) -> None:
    async with _client(world.db_url, webhook_allow_private_addresses=False) as client:
        response = await _add(client, world, "http://127.0.0.1:8000/hook")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "public internet address" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "address"]
    async with await AsyncConnection.connect(world.db_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM notification_targets")
        assert await cur.fetchone() == (0,)
    async with _client(world.db_url, webhook_allow_private_addresses=True) as client:
        response = await _add(client, world, "http://127.0.0.1:8000/hook")
    assert response.status_code == 201, response.text


def test_the_cli_refuses_a_private_webhook(db_url: str) -> None:
    state = CliState(make_settings(db_url, webhook_allow_private_addresses=False))
    assert CliRunner().invoke(app, ["team", "create", "north"], obj=state).exit_code == 0
    args = ["team", "notify", "north", "--webhook", "http://192.168.1.20/pager"]
    result = CliRunner().invoke(app, args, obj=state)
    assert result.exit_code != 0
    assert "public internet address" in result.output
    assert "Traceback" not in result.output


async def test_delivery_checks_the_address_again(world: World) -> None:
    assert world.team_id is not None
    with webhook_receiver(200) as receiver:
        async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
            await add_target(
                conn,
                team_id=world.team_id,
                target=TargetIn(kind="webhook", address=receiver.url),
                box=secret_box(make_settings(world.db_url)),
                smtp_configured=False,
                allow_private_webhooks=True,
            )
            cur = await conn.execute(
                "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day,"
                " last_day, message, notify) VALUES (%s, %s, 'HR_OVER_LIMIT', 'analysis',"
                " 'urgent', current_date, current_date, 'test', 'now') RETURNING id",
                (world.patient_id, world.team_id),
            )
            row = await cur.fetchone()
            assert row is not None
            await queue_alert(
                conn, alert_id=row[0], team_id=world.team_id, digest=False, digest_interval_s=60
            )
        # Private addresses were switched off after the target was added: nothing is sent.
        refusing = make_settings(world.db_url, webhook_allow_private_addresses=False)
        async with make_pool(world.db_url, refusing) as pool:
            notifier = Notifier(pool, refusing, retry=RetryPolicy(base_s=0, max_attempts=1))
            await notifier.deliver_due()
        assert receiver.requests == []
    async with await AsyncConnection.connect(world.db_url) as conn:
        cur = await conn.execute(
            "SELECT status, last_error FROM notification_deliveries ORDER BY id DESC LIMIT 1"
        )
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == "failed"
    assert row[1].startswith("address refused: ")
