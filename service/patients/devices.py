"""Devices (home hubs) bound to a patient, authenticated by a device token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, errors

from service.auth import hash_token, new_token
from service.errors import AuthenticationError, NotFoundError

__all__ = [
    "DEVICE_TOKEN_PREFIX",
    "DeviceIdentity",
    "add_device",
    "report_status",
    "resolve_device_token",
    "revoke_device",
]

DEVICE_TOKEN_PREFIX = "rmd"  # noqa: S105 - a token prefix, not a secret


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: UUID
    patient_id: UUID
    tz: str


async def add_device(
    conn: AsyncConnection[Any], *, patient_id: UUID, name: str = "home hub"
) -> tuple[UUID, str]:
    """Bind a new device to ``patient_id``; return its id and its token (shown once)."""
    token = new_token(DEVICE_TOKEN_PREFIX)
    try:
        cur = await conn.execute(
            "INSERT INTO devices (patient_id, name, token_hash) VALUES (%s, %s, %s) RETURNING id",
            (patient_id, name, hash_token(token)),
        )
    except errors.ForeignKeyViolation as exc:
        raise NotFoundError(f"no patient {patient_id}", patient_id=str(patient_id)) from exc
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row[0])), token


async def resolve_device_token(conn: AsyncConnection[Any], token: str) -> DeviceIdentity:
    cur = await conn.execute(
        "SELECT d.id, d.patient_id, p.tz FROM devices d JOIN patients p ON p.id = d.patient_id"
        " WHERE d.token_hash = %s AND d.revoked_at IS NULL",
        (hash_token(token),),
    )
    row = await cur.fetchone()
    if row is None:
        raise AuthenticationError("unknown or revoked device token; pair the hub again")
    return DeviceIdentity(device_id=row[0], patient_id=row[1], tz=row[2])


async def revoke_device(conn: AsyncConnection[Any], *, patient_id: UUID, device_id: UUID) -> None:
    """Revoke a device token at once; the device's samples stay."""
    cur = await conn.execute(
        "UPDATE devices SET revoked_at = coalesce(revoked_at, now())"
        " WHERE id = %s AND patient_id = %s",
        (device_id, patient_id),
    )
    if cur.rowcount == 0:
        raise NotFoundError(f"no device {device_id}")


async def report_status(
    conn: AsyncConnection[Any], *, device_id: UUID, battery_pct: int | None
) -> None:
    """Record the hub's heartbeat (last seen) and the band's battery level."""
    await conn.execute(
        "UPDATE devices SET last_seen_at = now(), battery_pct = coalesce(%s, battery_pct)"
        " WHERE id = %s",
        (battery_pct, device_id),
    )
