"""Opaque bearer tokens (user sessions, device tokens, enrollment codes).

Tokens carry 256 bits from the OS's CSPRNG, so a fast SHA-256 is the right hash for storing them
(a slow password hash is only needed for low-entropy secrets chosen by people).
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["hash_token", "new_token"]

# 32 bytes = 256 bits of entropy (NIST SP 800-63B asks for at least 64 bits for such secrets).
_TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    """A fresh token such as ``rmd_…``; the prefix tells a leaked token's kind at a glance."""
    return f"{prefix}_{secrets.token_urlsafe(_TOKEN_BYTES)}"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
