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
    """A closed async pool; the app lifespan opens and closes it.

    Every connection is checked (a cheap round trip) as it leaves the pool, so a connection broken
    by a database restart is replaced instead of failing the request that drew it. A request waits
    at most ``db_pool_timeout_s`` for a connection; the API answers 503 with ``Retry-After`` then.
    """
    return AsyncConnectionPool(
        url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        open=False,
        timeout=settings.db_pool_timeout_s,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "connect_timeout": settings.db_connect_timeout_s},
        # Tunable default: keep trying to reconnect in the background for an hour (psycopg_pool's
        # 5-minute default would give up on a database that is down for longer); each request
        # still answers 503 after db_pool_timeout_s.
        reconnect_timeout=3600.0,
        name="rehab",
        configure=_configure,
    )
