"""Database access: URL resolution (external or embedded), migrations, the connection pool."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.db.embedded import start_embedded
from service.db.migrate import available_migrations, upgrade
from service.settings import Settings

__all__ = ["available_migrations", "make_pool", "resolve_database_url", "start_embedded", "upgrade"]


def resolve_database_url(settings: Settings) -> str:
    """The configured database URL, or the embedded server's after starting it."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(settings.data_dir)


async def _configure(conn: AsyncConnection[Any]) -> None:
    from service.ingest.store import STAGING_DDL  # noqa: PLC0415 - avoids an import cycle

    await conn.execute(STAGING_DDL)


def make_pool(url: str, settings: Settings) -> AsyncConnectionPool[AsyncConnection[Any]]:
    """A closed async pool; the app lifespan opens and closes it."""
    return AsyncConnectionPool(
        url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        open=False,
        # Tunable default: fail a request after 10 s waiting for a connection rather than hanging.
        timeout=10.0,
        kwargs={"autocommit": True},
        name="rehab",
        configure=_configure,
    )
