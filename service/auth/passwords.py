"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendations).

One hash or verification takes about 0.1 s of CPU: the ``*_async`` forms run it in a worker
thread (argon2-cffi releases the GIL while hashing) so the event loop keeps serving other
requests, at most :data:`MAX_CONCURRENT_HASHES` at a time so a login burst cannot occupy every
thread of the default executor.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_CONCURRENT_HASHES",
    "hash_password",
    "hash_password_async",
    "needs_rehash",
    "verify_password",
    "verify_password_async",
]

_hasher = PasswordHasher()

# A hash of a random password, verified when the account does not exist so that a login for an
# unknown e-mail takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("rehab-monitor-timing-equaliser")

# OWASP ASVS 2.1.1: passwords of at least 12 characters; upper bound keeps hashing cheap to reject.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one verification, even with no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Tunable default: two hashes at once, the number of cores of the reference machine; more would
# only queue inside the CPU while holding memory (argon2id uses 64 MiB per hash).
MAX_CONCURRENT_HASHES = 2
_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        for stale in [other for other in _slots if other.is_closed()]:
            del _slots[stale]
        slot = _slots[loop] = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
    return slot


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` off the event loop."""
    async with _slot():
        return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` off the event loop."""
    async with _slot():
        return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
