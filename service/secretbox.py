"""Secrets the service must read back (webhook signing keys), encrypted at rest.

Passwords and tokens are only ever checked, so only their hashes are stored. A webhook signing key
must be read to sign each delivery, so it is encrypted instead: Fernet (AES-128-CBC with
HMAC-SHA256, the ``cryptography`` package's authenticated recipe) under ``REHAB_SECRET_KEY``, a key
that lives outside the database. A leaked dump or backup then holds no usable signing key.

Without ``REHAB_SECRET_KEY`` (development and the demo) the key is kept in ``secret.key`` under the
data directory, created on first use with owner-only permissions; production requires the setting.
Values stored before encryption existed are read as they are and encrypted by the notifier when it
starts (``seal_stored_secrets``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from psycopg import AsyncConnection

from service.errors import ConfigurationError
from service.settings import Settings

__all__ = ["SecretBox", "new_secret_key", "seal_stored_secrets", "secret_box"]

log = logging.getLogger(__name__)

# Marks an encrypted value; anything else in a secret column predates encryption.
_PREFIX = "fernet:"
_KEY_FILE = "secret.key"
_KEY_HINT = "a Fernet key: 32 url-safe base64-encoded bytes (`rehab secret-key` prints a new one)"


class SecretBox:
    """Encrypts secrets for storage and decrypts them for use."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise ConfigurationError(f"REHAB_SECRET_KEY is not {_KEY_HINT}") from None

    def seal(self, secret: str) -> str:
        return _PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored  # stored before encryption existed; the notifier seals it on start
        try:
            return self._fernet.decrypt(stored.removeprefix(_PREFIX).encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted: it was encrypted under another "
                "REHAB_SECRET_KEY"
            ) from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(_PREFIX)


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


def _key_file(path: Path) -> str:
    """The development key in ``path``, created (owner read/write only) when missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = new_secret_key()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


def secret_box(settings: Settings) -> SecretBox:
    """The box for ``settings``: REHAB_SECRET_KEY, else the data directory's key file."""
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SecretBox(_key_file(settings.data_dir / _KEY_FILE))


async def seal_stored_secrets(conn: AsyncConnection[Any], box: Callable[[], SecretBox]) -> int:
    """Encrypt webhook secrets stored in the clear (before encryption existed); return how many.

    ``box`` is called only when there is such a secret: building the box may create the
    development key file, which a service without webhooks never needs.
    """
    cur = await conn.execute(
        "SELECT id, secret FROM notification_targets"
        " WHERE secret IS NOT NULL AND secret NOT LIKE %s",
        (_PREFIX + "%",),
    )
    rows = await cur.fetchall()
    if not rows:
        return 0
    sealer = box()
    async with conn.transaction():
        for target_id, secret in rows:
            await conn.execute(
                "UPDATE notification_targets SET secret = %s WHERE id = %s AND secret = %s",
                (sealer.seal(secret), target_id, secret),
            )
    log.info("encrypted %d stored webhook secrets", len(rows))
    return len(rows)
