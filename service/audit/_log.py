"""Writing and querying audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, pq
from psycopg.rows import class_row

if TYPE_CHECKING:
    from service.accounts import Principal

__all__ = [
    "AuditEntry",
    "AuditQuery",
    "outside_transaction",
    "query_audit",
    "record_access",
    "record_event",
]

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


def outside_transaction(conn: AsyncConnection[Any]) -> bool:
    """Whether a statement on ``conn`` now is a transaction of its own (autocommit, none open)."""
    return conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE


# An audit entry written on its own (the access check of every patient-scoped request, a
# device's upload) is committed asynchronously (synchronous_commit off for that one statement):
# PostgreSQL's WAL writer flushes it within 3 × wal_writer_delay (0.6 s by default), and any
# later synchronous commit, such as the write the request then makes, flushes it first. Waiting
# for the flush of every read's entry put each API read behind the WAL of the uploads (the
# wait events of rehab bench fleet: WALSync on the access check). What this gives up: if the
# database host loses power within that 0.6 s, the entries of reads made in it are lost; the
# data those reads returned is unchanged, and no change is ever recorded without its entry.
# Inside a transaction the entry commits with it, as the transaction's writes do.
_RECORD = (
    "INSERT INTO audit_log (actor_kind, actor_id, action, patient_id, outcome)"
    " SELECT %s, %s, %s, %s, %s"
)
_RECORD_ASYNC = _RECORD + " WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"


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
        _RECORD_ASYNC if outside_transaction(conn) else _RECORD,
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
