"""Writing and querying audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import class_row

if TYPE_CHECKING:
    from service.accounts import Principal

__all__ = ["AuditEntry", "AuditQuery", "query_audit", "record_access", "record_event"]

ActorKind = Literal["user", "device", "cli", "worker"]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_kind: str
    actor_id: UUID | None
    action: str
    patient_id: UUID | None
    outcome: str


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Filters of :func:`query_audit`; ``before_id`` pages backwards through the log."""

    patient_id: UUID | None = None
    actor_id: UUID | None = None
    since: datetime | None = None
    before_id: int | None = None
    limit: int = 100


async def record_event(
    conn: AsyncConnection[Any],
    *,
    actor_kind: ActorKind,
    actor_id: UUID | None,
    action: str,
    patient_id: UUID | None,
    allowed: bool = True,
) -> None:
    """Append one entry. ``action`` must name what was done, never carry data."""
    await conn.execute(
        "INSERT INTO audit_log (actor_kind, actor_id, action, patient_id, outcome)"
        " VALUES (%s, %s, %s, %s, %s)",
        (actor_kind, actor_id, action, patient_id, "allowed" if allowed else "denied"),
    )


async def record_access(
    conn: AsyncConnection[Any],
    *,
    principal: Principal,
    action: str,
    patient_id: UUID | None,
    allowed: bool,
) -> None:
    """Append the decision on a logged-in user's request touching ``patient_id``."""
    await record_event(
        conn,
        actor_kind="user",
        actor_id=principal.user_id,
        action=action,
        patient_id=patient_id,
        allowed=allowed,
    )


async def query_audit(conn: AsyncConnection[Any], query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first."""
    cur = conn.cursor(row_factory=class_row(AuditEntry))
    await cur.execute(
        "SELECT id, at, actor_kind, actor_id, action, patient_id, outcome FROM audit_log"
        " WHERE (%(patient)s::uuid IS NULL OR patient_id = %(patient)s)"
        " AND (%(actor)s::uuid IS NULL OR actor_id = %(actor)s)"
        " AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(before)s::bigint IS NULL OR id < %(before)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {
            "patient": query.patient_id,
            "actor": query.actor_id,
            "since": query.since,
            "before": query.before_id,
            "limit": query.limit,
        },
    )
    return await cur.fetchall()
