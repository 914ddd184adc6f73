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


class MigrationError(ServiceError):
    """The database schema cannot be brought up to date (e.g. an applied migration was edited)."""

    code = "migration_error"
    title = "Migration error"


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


class UnsupportedMediaTypeError(ServiceError):
    """A body in a content type the route does not read (JSON routes take application/json)."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


# Tunable defaults: how long a client should wait before retrying when the database is away
# (a PostgreSQL restart takes a few seconds) or a transaction lost a deadlock/serialization race.
RETRY_AFTER_UNAVAILABLE_S = 5
RETRY_AFTER_CONFLICT_S = 1


def _constraint_field(diag: Any) -> str:
    """The column a constraint is about, from its name (``patients_team_id_fkey`` -> ``team_id``).

    Only schema names are used: the diagnostic's DETAIL and row contents never leave this module.
    """
    column = getattr(diag, "column_name", None)
    if column:
        return str(column)
    table = getattr(diag, "table_name", None) or ""
    name = str(getattr(diag, "constraint_name", None) or "")
    if table and name.startswith(f"{table}_"):
        name = name[len(table) + 1 :]
    for suffix in ("_fkey", "_check", "_key", "_not_null"):
        name = name.removesuffix(suffix)
    return name or "body"


def translate_database_error(exc: BaseException) -> ServiceError:
    """The :class:`ServiceError` for a psycopg error, without the server's message or DETAIL.

    Called once where database errors leave the service (the API's problem handler, the CLI):
    PostgreSQL's messages can quote row contents (``Failing row contains (…)``), which may hold a
    password hash or health data, so only the SQLSTATE class and schema names are kept.
    """
    # Imported here: the exception tree itself must not depend on the database driver.
    from psycopg import DataError, IntegrityError, InterfaceError, OperationalError  # noqa: PLC0415
    from psycopg import errors as pg  # noqa: PLC0415

    sqlstate = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    if isinstance(exc, pg.DeadlockDetected | pg.SerializationFailure | pg.LockNotAvailable):
        return DatabaseUnavailableError(
            "the database was busy with a conflicting change; retry shortly",
            retry_after_s=RETRY_AFTER_CONFLICT_S,
            sqlstate=sqlstate,
        )
    if isinstance(exc, pg.UniqueViolation):
        field = _constraint_field(diag)
        return ConflictError(f"{field}: a record with this value already exists", field=field)
    if isinstance(exc, pg.ForeignKeyViolation):
        field = _constraint_field(diag)
        return ValidationFailedError(
            f"{field}: refers to a record that does not exist",
            errors=[{"loc": [field], "msg": "unknown reference"}],
        )
    if isinstance(exc, IntegrityError):
        field = _constraint_field(diag)
        return ValidationFailedError(
            f"{field}: value not allowed", errors=[{"loc": [field], "msg": "value not allowed"}]
        )
    if isinstance(exc, DataError):
        return ValidationFailedError(
            "a value is out of range or malformed",
            errors=[{"loc": ["body"], "msg": "value out of range or malformed"}],
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailableError(
            "the database is unavailable; retry shortly",
            retry_after_s=RETRY_AFTER_UNAVAILABLE_S,
            sqlstate=sqlstate,
        )
    return ServiceError("the database failed to handle the request", sqlstate=sqlstate)
