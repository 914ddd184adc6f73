"""Webhook signing secrets are stored encrypted and still sign deliveries."""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from service.cli.main import app
from service.db import make_pool
from service.errors import ConfigurationError
from service.notify import verify_signature
from service.secretbox import SecretBox, new_secret_key, seal_stored_secrets, secret_box
from service.settings import Settings
from tests.fixtures.service import World, make_settings
from tests.service.notify_helpers import Receiver, webhook_receiver


def test_sealed_secrets_open_only_with_their_key() -> None:
    box = SecretBox(new_secret_key())
    sealed = box.seal("whsec-1234")
    assert "whsec-1234" not in sealed
    assert box.open(sealed) == "whsec-1234"
    assert box.open("stored-before-encryption") == "stored-before-encryption"
    with pytest.raises(ConfigurationError, match="another REHAB_SECRET_KEY"):
        SecretBox(new_secret_key()).open(sealed)


def test_a_key_that_is_not_a_fernet_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        SecretBox("correct horse battery staple")


def test_development_key_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sealed = secret_box(settings).seal("s")
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert secret_box(settings).open(sealed) == "s"


def test_production_needs_a_secret_key() -> None:
    url = SecretStr("postgresql://db.example/rehab")
    with pytest.raises(ValidationError, match="REHAB_SECRET_KEY must be set in production"):
        Settings(environment="production", database_url=url)
    Settings(environment="production", database_url=url, secret_key=SecretStr(new_secret_key()))


def test_secret_key_command_prints_a_usable_key() -> None:
    result = CliRunner().invoke(app, ["secret-key"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}=", key)
    SecretBox(key)


async def test_webhook_secret_is_stored_encrypted_and_signs(world: World) -> None:
    with webhook_receiver(200) as receiver:
        response = await world.client.post(
            f"/v1/teams/{world.team_id}/notification-targets",
            json={"kind": "webhook", "address": receiver.url},
            headers=world.auth(world.admin_token),
        )
        assert response.status_code == 201, response.text
        secret = response.json()["secret"]
        with psycopg.connect(world.db_url) as conn:
            [(stored,)] = conn.execute("SELECT secret FROM notification_targets").fetchall()
        assert stored.startswith("fernet:")
        assert secret not in stored
        await _deliver_one(world, receiver)
    assert _signed_with(secret, receiver.requests[0])


async def test_secrets_stored_in_the_clear_are_encrypted_and_keep_working(world: World) -> None:
    with webhook_receiver(200) as receiver:
        with psycopg.connect(world.db_url) as conn:
            conn.execute(
                "INSERT INTO notification_targets (team_id, kind, address, secret)"
                " VALUES (%s, 'webhook', %s, 'legacy-secret')",
                (world.team_id, receiver.url),
            )
        settings = make_settings(world.db_url)
        async with make_pool(world.db_url, settings) as pool, pool.connection() as conn:

            def box() -> SecretBox:
                return secret_box(settings)

            assert await seal_stored_secrets(conn, box) == 1
            assert await seal_stored_secrets(conn, box) == 0
        with psycopg.connect(world.db_url) as conn:
            [(stored,)] = conn.execute("SELECT secret FROM notification_targets").fetchall()
        assert stored.startswith("fernet:")
        await _deliver_one(world, receiver)
    assert _signed_with("legacy-secret", receiver.requests[0])


async def _deliver_one(world: World, receiver: Receiver) -> None:
    """A red-flag check-in: its urgent alert is delivered within the request."""
    response = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={"pain_0_10": 8, "red_flags": ["fever"]},
        headers=world.auth(world.patient_token),
    )
    assert response.status_code == 201, response.text
    assert len(receiver.requests) == 1


def _signed_with(secret: str, request: tuple[dict[str, str], bytes]) -> bool:
    headers, body = request
    return verify_signature(
        secret, header=headers["rehab-signature"], body=body, now_s=int(time.time())
    )
