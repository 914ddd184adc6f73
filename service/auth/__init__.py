"""Credentials: password hashing, opaque bearer tokens, device tokens."""

from service.auth.passwords import hash_password, verify_password
from service.auth.tokens import hash_token, new_token

__all__ = ["hash_password", "hash_token", "new_token", "verify_password"]
