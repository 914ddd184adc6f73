"""One-time enrollment codes: a clinician issues one, the home hub redeems it for a device token.

A code is short enough to type on a hub (``rehab collect pair``), expires after minutes, works
once, and only its hash is stored; the device token it yields is a full 256-bit secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from service.auth import hash_token
from service.errors import AuthenticationError
from service.patients.devices import add_device

__all__ = ["DeviceRecord", "EnrollmentCode", "issue_enrollment_code", "list_devices", "redeem"]

# Crockford's base32 alphabet without I, L, O, U: no look-alike characters when typed by hand.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 12 symbols × 5 bits = 60 bits: with a 15-minute lifetime and login-style throttling far beyond
# guessing (NIST SP 800-63B §5.1.1.2 asks ≥ 20 bits for a rate-limited one-time secret).
_CODE_SYMBOLS = 12


@dataclass(frozen=True)
class EnrollmentCode:
    code: str
    expires_at: datetime


def _normalise(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


async def issue_enrollment_code(
    conn: AsyncConnection[Any], *, patient_id: UUID, by: UUID | None, ttl_s: int
) -> EnrollmentCode:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_SYMBOLS))
    cur = await conn.execute(
        "INSERT INTO enrollment_codes (code_hash, patient_id, created_by, expires_at)"
        " VALUES (%s, %s, %s, now() + make_interval(secs => %s)) RETURNING expires_at",
        (hash_token(raw), patient_id, by, ttl_s),
    )
    row = await cur.fetchone()
    assert row is not None
    grouped = "-".join(raw[i : i + 4] for i in range(0, _CODE_SYMBOLS, 4))
    return EnrollmentCode(code=grouped, expires_at=row[0])


async def redeem(conn: AsyncConnection[Any], *, code: str, name: str) -> tuple[UUID, UUID, str]:
    """Use ``code`` once; return ``(device_id, patient_id, device token)``."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE enrollment_codes SET used_at = now() WHERE code_hash = %s"
            " AND used_at IS NULL AND expires_at > now() RETURNING patient_id",
            (hash_token(_normalise(code)),),
        )
        row = await cur.fetchone()
        if row is None:
            raise AuthenticationError("the enrollment code is unknown, used or expired")
        patient_id: UUID = row[0]
        device_id, token = await add_device(conn, patient_id=patient_id, name=name)
        await conn.execute(
            "UPDATE enrollment_codes SET device_id = %s WHERE code_hash = %s",
            (device_id, hash_token(_normalise(code))),
        )
    return device_id, patient_id, token


@dataclass(frozen=True)
class DeviceRecord:
    id: UUID
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    battery_pct: int | None


async def list_devices(conn: AsyncConnection[Any], *, patient_id: UUID) -> list[DeviceRecord]:
    cur = await conn.execute(
        "SELECT id, name, created_at, revoked_at, last_seen_at, battery_pct FROM devices"
        " WHERE patient_id = %s ORDER BY created_at, id",
        (patient_id,),
    )
    return [DeviceRecord(*row) for row in await cur.fetchall()]
