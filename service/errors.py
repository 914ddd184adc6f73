"""The service's exception tree.

Every error the service raises on purpose derives from :class:`ServiceError`. Third-party errors
(psycopg, embedded PostgreSQL) are translated into these once, at the boundary where they occur;
the API maps them to ``application/problem+json`` responses in one place (``service.api.problems``).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the service raises on purpose.

    ``status`` is the HTTP status the API answers with; ``code`` a stable machine-readable name.
    """

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(self, detail: str, **fields: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields


class ConfigurationError(ServiceError):
    """The settings are incomplete or contradictory."""

    code = "configuration_error"
    title = "Configuration error"


class DatabaseUnavailableError(ServiceError):
    """The database could not be reached or started."""

    status = 503
    code = "database_unavailable"
    title = "Database unavailable"


class ValidationFailedError(ServiceError):
    """Input was rejected; ``errors`` lists each problem with its location."""

    status = 422
    code = "validation_failed"
    title = "Invalid input"


class PayloadTooLargeError(ServiceError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class AuthenticationError(ServiceError):
    """Missing, malformed, expired or revoked credentials."""

    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDeniedError(ServiceError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFoundError(ServiceError):
    """The object does not exist, or the caller may not know that it exists."""

    status = 404
    code = "not_found"
    title = "Not found"


class ConflictError(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimitedError(ServiceError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"
