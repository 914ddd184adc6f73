"""Login throttling per account and per client address, counted in the database.

The count lives in PostgreSQL rather than in process memory so that every ``rehab serve`` process
behind a load balancer shares it and a restart does not reset it; a failed login costs one insert,
which is small next to the argon2 verification it follows. Each attempt is counted before the
password is checked and taken back on success, so concurrent guesses cannot overshoot a limit.
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
    """Count this attempt, or raise :class:`RateLimitedError` (with ``retry_after_s``).

    The attempt is counted as a failure *before* the password is checked, in the same statement
    that checks the limits, and :func:`clear_failures` takes it back when the login succeeds. The
    statement runs under transaction-level advisory locks on the account and the address (taken
    in sorted order, so two attempts never wait on each other crosswise): concurrent attempts are
    counted one after the other, and exactly the limit's number of guesses gets through.
    """
    account = _account_key(email)
    async with conn.transaction():
        for key in sorted((f"login-account:{account}", f"login-address:{address}")):
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
        cur = await conn.execute(
            _COUNT_AND_RESERVE_SQL,
            {
                "account": account,
                "address": address,
                "window": limits.window_s,
                "max_account": limits.max_per_account,
                "max_address": limits.max_per_address,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    by_account, by_address, oldest_account, oldest_address, now, reserved = row
    if reserved:
        return
    blocked_since = None
    if by_account >= limits.max_per_account:
        blocked_since = oldest_account
    if by_address >= limits.max_per_address:
        blocked_since = min(filter(None, (blocked_since, oldest_address)))
    retry_after_s = max(1, limits.window_s - int((now - (blocked_since or now)).total_seconds()))
    raise RateLimitedError(
        "too many failed logins for this account or address; try again later",
        retry_after_s=retry_after_s,
    )


# Counts the window's failures and, when both are under their limit, inserts this attempt.
_COUNT_AND_RESERVE_SQL = """
WITH recent AS (
    SELECT
        count(*) FILTER (WHERE account = %(account)s) AS by_account,
        count(*) FILTER (WHERE address = %(address)s) AS by_address,
        min(at) FILTER (WHERE account = %(account)s) AS oldest_account,
        min(at) FILTER (WHERE address = %(address)s) AS oldest_address
    FROM login_failures
    WHERE (account = %(account)s OR address = %(address)s)
    AND at > now() - make_interval(secs => %(window)s)
), reserved AS (
    INSERT INTO login_failures (account, address)
    SELECT %(account)s, %(address)s FROM recent
    WHERE by_account < %(max_account)s AND by_address < %(max_address)s
    RETURNING id
)
SELECT by_account, by_address, oldest_account, oldest_address, now(),
    EXISTS (SELECT FROM reserved)
FROM recent
"""

# Tunable default: failures older than a day no longer matter for any sensible window.
_KEEP_FAILURES = "1 day"


async def record_failure(conn: AsyncConnection[Any], *, email: str, address: str) -> None:
    """The attempt failed: it stays counted (:func:`check_login_allowed` counted it already).

    Forgets this address's failures older than a day.
    """
    await conn.execute(
        "DELETE FROM login_failures WHERE address = %s AND at < now() - %s::interval",
        (address, _KEEP_FAILURES),
    )


async def clear_failures(conn: AsyncConnection[Any], *, email: str) -> None:
    """Forget an account's failures after a successful login (the address count stays)."""
    await conn.execute("DELETE FROM login_failures WHERE account = %s", (_account_key(email),))
