"""A team's notification targets and the delivery log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, errors
from psycopg.rows import class_row
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.errors import NotFoundError, ValidationFailedError
from service.notify._address import WebhookAddressRefused, check_webhook_address
from service.secretbox import SecretBox

__all__ = [
    "EMAIL_NEEDS_SMTP",
    "DeliveryRecord",
    "TargetIn",
    "TargetRecord",
    "add_target",
    "list_deliveries",
    "list_targets",
    "set_target_active",
]

# 32 random bytes for the HMAC key: SHA-256's block-size guidance (RFC 2104 §3) asks ≥ 32 bytes.
_SECRET_BYTES = 32
EMAIL_NEEDS_SMTP = (
    "e-mail targets need an SMTP server: REHAB_SMTP_HOST is not set, so nothing could be sent"
    " to this address (set REHAB_SMTP_HOST, or use a webhook)"
)


class TargetIn(BaseModel):
    """A webhook URL or an e-mail address to notify about the team's alerts."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"kind": "webhook", "address": "https://pager.clinic.example/rehab"},
                {"kind": "email", "address": "spine-team@clinic.example"},
            ]
        },
    )

    kind: Literal["webhook", "email"]
    # The schema's CHECK (migration 0010): a URL or an address, far below any real limit.
    address: str = Field(min_length=3, max_length=2000)

    @model_validator(mode="after")
    def _shape(self) -> TargetIn:
        if self.kind == "webhook" and not self.address.startswith(("https://", "http://")):
            raise ValueError("a webhook address is an http(s) URL")
        if self.kind == "email" and "@" not in self.address:
            raise ValueError("an e-mail address needs an @")
        return self


@dataclass(frozen=True)
class TargetRecord:
    id: int
    team_id: UUID
    kind: str
    address: str
    active: bool
    created_at: datetime


async def add_target(
    conn: AsyncConnection[Any],
    *,
    team_id: UUID,
    target: TargetIn,
    box: SecretBox,
    smtp_configured: bool,
    allow_private_webhooks: bool,
) -> tuple[TargetRecord, str | None]:
    """Add a target; return it and, for a webhook, its signing secret (shown once).

    The secret is stored encrypted with ``box`` (service.secretbox). An e-mail target is refused
    (:class:`ValidationFailedError`, the reason in it) unless ``smtp_configured``; a webhook
    whose host is not a public internet address unless ``allow_private_webhooks``
    (``service.notify._address``).
    """
    if target.kind == "email" and not smtp_configured:
        raise ValidationFailedError(
            EMAIL_NEEDS_SMTP, errors=[{"loc": ["body", "kind"], "msg": EMAIL_NEEDS_SMTP}]
        )
    if target.kind == "webhook":
        try:
            await check_webhook_address(target.address, allow_private=allow_private_webhooks)
        except WebhookAddressRefused as exc:
            raise ValidationFailedError(
                exc.reason, errors=[{"loc": ["body", "address"], "msg": exc.reason}]
            ) from None
    secret = secrets.token_hex(_SECRET_BYTES) if target.kind == "webhook" else None
    cur = conn.cursor(row_factory=class_row(TargetRecord))
    try:
        await cur.execute(
            "INSERT INTO notification_targets (team_id, kind, address, secret)"
            " VALUES (%s, %s, %s, %s) RETURNING id, team_id, kind, address, active, created_at",
            (team_id, target.kind, target.address, box.seal(secret) if secret else None),
        )
    except errors.ForeignKeyViolation as exc:
        raise NotFoundError(f"no team {team_id}") from exc
    row = await cur.fetchone()
    assert row is not None
    return row, secret


async def set_target_active(
    conn: AsyncConnection[Any], *, team_id: UUID, target_id: int, active: bool
) -> TargetRecord:
    """Switch a target off (no new deliveries; its log stays) or on again."""
    cur = conn.cursor(row_factory=class_row(TargetRecord))
    await cur.execute(
        "UPDATE notification_targets SET active = %s WHERE id = %s AND team_id = %s"
        " RETURNING id, team_id, kind, address, active, created_at",
        (active, target_id, team_id),
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"no notification target {target_id} in team {team_id}")
    return row


async def list_targets(conn: AsyncConnection[Any], *, team_id: UUID) -> list[TargetRecord]:
    cur = conn.cursor(row_factory=class_row(TargetRecord))
    await cur.execute(
        "SELECT id, team_id, kind, address, active, created_at FROM notification_targets"
        " WHERE team_id = %s ORDER BY id",
        (team_id,),
    )
    return await cur.fetchall()


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    target_id: int
    kind: str
    alert_ids: list[int]
    digest: bool
    status: str
    attempts: int
    due_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


async def list_deliveries(
    conn: AsyncConnection[Any],
    *,
    team_ids: tuple[UUID, ...] | None,
    before_id: int | None,
    limit: int,
) -> list[DeliveryRecord]:
    """The delivery log of ``team_ids`` (every team when ``None``), newest first."""
    cur = conn.cursor(row_factory=class_row(DeliveryRecord))
    await cur.execute(
        "SELECT d.id, d.target_id, t.kind, d.alert_ids, d.digest, d.status, d.attempts, d.due_at,"
        " d.last_error, d.sent_at, d.created_at FROM notification_deliveries d"
        " JOIN notification_targets t ON t.id = d.target_id"
        " WHERE (%(all)s OR t.team_id = ANY(%(teams)s))"
        " AND (%(before)s::bigint IS NULL OR d.id < %(before)s)"
        " ORDER BY d.id DESC LIMIT %(limit)s",
        {
            "all": team_ids is None,
            "teams": list(team_ids or ()),
            "before": before_id,
            "limit": limit,
        },
    )
    return await cur.fetchall()
