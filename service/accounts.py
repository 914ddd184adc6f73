"""Care teams, users and their bearer tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, errors
from psycopg.rows import class_row

from service.auth import hash_token, new_token
from service.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password_async,
    verify_password_async,
)
from service.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)
from service.validators import check_email

__all__ = [
    "DEFAULT_TEAM",
    "PRINCIPAL_COLUMNS",
    "PRINCIPAL_SQL",
    "Principal",
    "Role",
    "add_team_member",
    "authenticate",
    "change_password",
    "create_user",
    "ensure_team",
    "find_team",
    "issue_access_token",
    "login_candidate",
    "principal_of",
    "resolve_access_token",
    "revoke_access_token",
    "revoke_user_tokens",
    "set_user_disabled",
    "verify_login",
]

Role = Literal["admin", "clinician", "patient"]
DEFAULT_TEAM = "default"
ACCESS_TOKEN_PREFIX = "rma"  # noqa: S105 - a token prefix, not a secret


@dataclass(frozen=True)
class Principal:
    """The authenticated user behind a request."""

    user_id: UUID
    email: str
    role: Role
    patient_id: UUID | None
    team_ids: tuple[UUID, ...]


async def ensure_team(conn: AsyncConnection[Any], name: str) -> UUID:
    """The id of the team called ``name``, created on first use."""
    cur = await conn.execute(
        "INSERT INTO care_teams (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name"
        " RETURNING id",
        (name,),
    )
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row[0]))


async def find_team(conn: AsyncConnection[Any], name: str) -> UUID:
    """The id of the existing team called ``name``; ``NotFoundError`` naming it otherwise."""
    cur = await conn.execute("SELECT id FROM care_teams WHERE name = %s", (name,))
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(
            f"no team {name!r}: create it first (`rehab team create NAME`)",
            errors=[{"loc": ["team"], "msg": "unknown team"}],
        )
    return UUID(str(row[0]))


def check_password_policy(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailedError(
            f"a password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            errors=[{"loc": ["password"], "msg": "length out of range"}],
        )


async def create_user(
    conn: AsyncConnection[Any],
    *,
    email: str,
    password: str,
    role: Role,
    team: str = DEFAULT_TEAM,
    patient_id: UUID | None = None,
    team_must_exist: bool = False,
) -> UUID:
    """Create a user in ``team``; a patient user is linked to their patient record.

    ``team`` is created on first use unless ``team_must_exist`` (a name typed by hand).
    """
    check_password_policy(password)
    try:
        email = check_email(email)
    except ValueError as exc:
        raise ValidationFailedError(
            f"email: {exc}", errors=[{"loc": ["email"], "msg": str(exc)}]
        ) from None
    if not team.strip():
        raise ValidationFailedError(
            "team: expected a team name", errors=[{"loc": ["team"], "msg": "empty team name"}]
        )
    if role == "patient" and patient_id is None:
        raise ValidationFailedError(
            "a patient login must be linked to a patient record (--patient ID)",
            errors=[{"loc": ["patient_id"], "msg": "required for role patient"}],
        )
    password_hash = await hash_password_async(password)
    async with conn.transaction():
        team_id = await (find_team if team_must_exist else ensure_team)(conn, team)
        try:
            cur = await conn.execute(
                "INSERT INTO users (email, password_hash, role, patient_id) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (email, password_hash, role, patient_id),
            )
        except errors.UniqueViolation as exc:
            raise ConflictError(f"a user with e-mail {email} already exists") from exc
        except errors.ForeignKeyViolation as exc:
            raise ValidationFailedError(
                f"no patient with id {patient_id}",
                errors=[{"loc": ["patient_id"], "msg": "unknown patient"}],
            ) from exc
        row = await cur.fetchone()
        assert row is not None
        user_id = UUID(str(row[0]))
        await conn.execute(
            "INSERT INTO team_members (team_id, user_id) VALUES (%s, %s)", (team_id, user_id)
        )
    return user_id


@dataclass(frozen=True)
class _LoginRow:
    id: UUID
    password_hash: str
    disabled_at: datetime | None


async def login_candidate(conn: AsyncConnection[Any], *, email: str) -> _LoginRow | None:
    """The stored credentials of ``email`` (``None`` without such a user), for :func:`verify_login`."""
    cur = conn.cursor(row_factory=class_row(_LoginRow))
    await cur.execute(
        "SELECT id, password_hash, disabled_at FROM users WHERE lower(email) = lower(%s)",
        (email.strip(),),
    )
    return await cur.fetchone()


async def verify_login(candidate: _LoginRow | None, *, password: str) -> UUID:
    """The user id for valid credentials; one generic error otherwise (no user enumeration).

    Needs no database connection: callers return theirs to the pool while argon2 runs.
    """
    ok = await verify_password_async(candidate.password_hash if candidate else None, password)
    if candidate is None or not ok or candidate.disabled_at is not None:
        raise AuthenticationError("wrong e-mail or password, or the account is disabled")
    return candidate.id


async def authenticate(conn: AsyncConnection[Any], *, email: str, password: str) -> UUID:
    """The user id for valid credentials; one generic error otherwise (no user enumeration)."""
    return await verify_login(await login_candidate(conn, email=email), password=password)


async def issue_access_token(
    conn: AsyncConnection[Any], *, user_id: UUID, ttl_s: int, now: datetime | None = None
) -> tuple[str, datetime]:
    token = new_token(ACCESS_TOKEN_PREFIX)
    expires_at = (now or datetime.now(UTC)) + timedelta(seconds=ttl_s)
    await conn.execute(
        "INSERT INTO access_tokens (token_hash, user_id, expires_at) VALUES (%s, %s, %s)",
        (hash_token(token), user_id, expires_at),
    )
    return token, expires_at


async def revoke_access_token(conn: AsyncConnection[Any], token: str) -> None:
    await conn.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL",
        (hash_token(token),),
    )


# The principal behind a live token (parameter ``token_hash``): user id, e-mail, role, patient id,
# team ids. A query of its own so that the patient access check can start from it.
PRINCIPAL_SQL = (
    "SELECT u.id AS user_id, u.email, u.role, u.patient_id,"
    " coalesce(array_agg(m.team_id) FILTER (WHERE m.team_id IS NOT NULL), '{}') AS team_ids"
    " FROM access_tokens a JOIN users u ON u.id = a.user_id"
    " LEFT JOIN team_members m ON m.user_id = u.id"
    " WHERE a.token_hash = %(token_hash)s AND a.revoked_at IS NULL AND a.expires_at > now()"
    " AND u.disabled_at IS NULL"
    " GROUP BY u.id"
)
PRINCIPAL_COLUMNS = 5
"""The columns of :data:`PRINCIPAL_SQL`, which :func:`principal_of` reads."""


def principal_of(row: Sequence[Any] | None) -> Principal:
    """The principal of a :data:`PRINCIPAL_SQL` row; ``AuthenticationError`` when there is none."""
    if row is None:
        raise AuthenticationError("the bearer token is unknown, expired or revoked; log in again")
    return Principal(
        user_id=row[0], email=row[1], role=row[2], patient_id=row[3], team_ids=tuple(row[4])
    )


async def resolve_access_token(conn: AsyncConnection[Any], token: str) -> Principal:
    """The principal behind a live token; ``AuthenticationError`` for anything else."""
    cur = await conn.execute(PRINCIPAL_SQL, {"token_hash": hash_token(token)})
    return principal_of(await cur.fetchone())


async def revoke_user_tokens(conn: AsyncConnection[Any], *, user_id: UUID) -> int:
    """Revoke every live bearer token of ``user_id``; return how many were revoked."""
    cur = await conn.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )
    return cur.rowcount


async def change_password(
    conn: AsyncConnection[Any], *, user_id: UUID, current_password: str, new_password: str
) -> None:
    """Replace a password after checking the current one; every token of the user is revoked."""
    check_password_policy(new_password)
    cur = await conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
    row = await cur.fetchone()
    if not await verify_password_async(row[0] if row else None, current_password):
        raise AuthenticationError("the current password is wrong")
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s",
            (await hash_password_async(new_password), user_id),
        )
        await revoke_user_tokens(conn, user_id=user_id)


async def set_user_disabled(conn: AsyncConnection[Any], *, user_id: UUID, disabled: bool) -> None:
    """Disable (revoking every token at once) or re-enable a login."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE users SET disabled_at = CASE WHEN %s THEN coalesce(disabled_at, now()) END"
            " WHERE id = %s",
            (disabled, user_id),
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no user {user_id}")
        if disabled:
            await revoke_user_tokens(conn, user_id=user_id)


async def add_team_member(conn: AsyncConnection[Any], *, team_id: UUID, user_id: UUID) -> None:
    """Add ``user_id`` to ``team_id`` (no-op when already a member)."""
    try:
        await conn.execute(
            "INSERT INTO team_members (team_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (team_id, user_id),
        )
    except errors.ForeignKeyViolation as exc:
        raise NotFoundError("no such team or user") from exc
