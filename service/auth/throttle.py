"""Login throttling per account and per client address, counted in the database.

The count lives in PostgreSQL rather than in process memory so that every ``rehab serve`` process
behind a load balancer shares it and a restart does not reset it; a failed login costs one insert,
which is small next to the argon2 verification it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from service.errors import RateLimitedError

__all__ = ["LoginLimits", "check_login_allowed", "clear_failures", "record_failure"]


@dataclass(frozen=True, kw_only=True)
class LoginLimits:
    """Failed logins allowed within ``window_s`` seconds, per account and per address."""

    window_s: int
    max_per_account: int
    max_per_address: int


def _account_key(email: str) -> str:
    return email.strip().lower()


async def check_login_allowed(
    conn: AsyncConnection[Any], *, email: str, address: str, limits: LoginLimits
) -> None:
    """Raise :class:`RateLimitedError` (with ``retry_after_s``) when either limit is reached."""
    cur = await conn.execute(
        "SELECT"
        " count(*) FILTER (WHERE account = %(account)s),"
        " count(*) FILTER (WHERE address = %(address)s),"
        " min(at) FILTER (WHERE account = %(account)s),"
        " min(at) FILTER (WHERE address = %(address)s),"
        " now()"
        " FROM login_failures"
        " WHERE (account = %(account)s OR address = %(address)s)"
        " AND at > now() - make_interval(secs => %(window)s)",
        {"account": _account_key(email), "address": address, "window": limits.window_s},
    )
    row = await cur.fetchone()
    assert row is not None
    by_account, by_address, oldest_account, oldest_address, now = row
    blocked_since = None
    if by_account >= limits.max_per_account:
        blocked_since = oldest_account
    if by_address >= limits.max_per_address:
        blocked_since = min(filter(None, (blocked_since, oldest_address)))
    if blocked_since is None:
        return
    retry_after_s = max(1, limits.window_s - int((now - blocked_since).total_seconds()))
    raise RateLimitedError(
        "too many failed logins for this account or address; try again later",
        retry_after_s=retry_after_s,
    )


# Tunable default: failures older than a day no longer matter for any sensible window.
_KEEP_FAILURES = "1 day"


async def record_failure(conn: AsyncConnection[Any], *, email: str, address: str) -> None:
    """Count one failed login; forget this address's failures older than a day."""
    await conn.execute(
        "INSERT INTO login_failures (account, address) VALUES (%s, %s)",
        (_account_key(email), address),
    )
    await conn.execute(
        "DELETE FROM login_failures WHERE address = %s AND at < now() - %s::interval",
        (address, _KEEP_FAILURES),
    )


async def clear_failures(conn: AsyncConnection[Any], *, email: str) -> None:
    """Forget an account's failures after a successful login (the address count stays)."""
    await conn.execute("DELETE FROM login_failures WHERE account = %s", (_account_key(email),))
