"""A small SQL migration runner.

Migrations are plain SQL files in ``service/db/migrations`` named ``NNNN_description.sql``,
applied in order, each in its own transaction, under an advisory lock so that two processes
starting at once do not race. Applied versions are recorded with a checksum; a changed file that
was already applied is an error rather than a silent drift.

Why not Alembic: its strength is autogeneration from SQLAlchemy models, which this project does not
use (psycopg 3 with plain SQL). The migrations need conditional TimescaleDB blocks (``DO $$ ...``)
that are simplest as raw SQL, and this runner is the ~80 lines below.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import psycopg

from service.errors import DatabaseUnavailableError, MigrationError

__all__ = ["Migration", "available_migrations", "upgrade"]

log = logging.getLogger(__name__)

# Arbitrary but fixed key for pg_advisory_lock: "rehab" in ASCII.
_LOCK_KEY = 0x7265686162


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found = []
    for entry in resources.files("service.db.migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        version_text, _, rest = entry.name.partition("_")
        found.append(Migration(int(version_text), rest.removesuffix(".sql"), entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


def upgrade(url: str) -> list[Migration]:
    """Apply every pending migration to the database at ``url``; return those applied."""
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(f"cannot connect to the database: {exc}") from exc
    applied: list[Migration] = []
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done: dict[int, str] = dict(
                conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
            )
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version} ({migration.name}) was changed after it "
                            "was applied; add a new migration instead of editing an applied one",
                            version=migration.version,
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("applied migration %04d_%s", migration.version, migration.name)
                applied.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied
