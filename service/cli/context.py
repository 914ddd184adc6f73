"""What every service command needs: settings, a database URL, a connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import typer
from psycopg import AsyncConnection
from pydantic import SecretStr
from rich.console import Console

from service.db import available_migrations, resolve_database_url, upgrade
from service.errors import ServiceError, translate_database_error
from service.settings import Settings

__all__ = ["CliState", "console", "err_console", "fail"]

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    # One line however long: a wrapped message would read as several errors.
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


class CliState:
    """Built once in the root callback from the environment; passed to every command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._url: str | None = None

    @property
    def embedded(self) -> bool:
        return self.settings.database_url is None

    def database_url(self, *, migrate: bool = True) -> str:
        """The database URL, starting the embedded server (and migrating it) when needed."""
        if self._url is None:
            self._url = resolve_database_url(self.settings)
            if migrate:
                self._check_schema(self._url)
        return self._url

    def resolved_settings(self) -> Settings:
        """The settings with ``database_url`` resolved, for ``create_app``."""
        return self.settings.model_copy(update={"database_url": SecretStr(self.database_url())})

    def _check_schema(self, url: str) -> None:
        if self.embedded:
            upgrade(url)
            return
        latest = max(m.version for m in available_migrations())
        with psycopg.connect(url) as conn:
            exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
            current = None
            if exists and exists[0]:
                row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
                current = row[0] if row else None
        if current != latest:
            raise ServiceError(
                f"the database schema is at version {current or 'none'}, this release needs "
                f"{latest}: run `rehab db upgrade` first"
            )

    def run(self, work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
        """Run ``work`` with one autocommit connection to the database."""
        url = self.database_url()

        async def main() -> T:
            async with await AsyncConnection.connect(url, autocommit=True) as conn:
                return await work(conn)

        # Every error is one line: domain errors say what was expected; database errors are
        # translated once (never PostgreSQL's message, whose DETAIL can quote a row).
        try:
            return asyncio.run(main())
        except ServiceError as exc:
            raise fail(exc.detail) from None
        except psycopg.Error as exc:
            raise fail(translate_database_error(exc).detail) from None
