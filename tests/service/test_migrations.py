"""Migrations from an empty database: all apply, re-running is a no-op, an edited one is refused."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from service.db import available_migrations, upgrade
from service.db.migrate import Migration
from service.errors import DatabaseUnavailableError


def test_from_empty_then_idempotent(make_database: Callable[[], str]) -> None:
    url = make_database()  # created and migrated by the fixture
    assert upgrade(url) == []
    with psycopg.connect(url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert versions == [m.version for m in available_migrations()]
    assert {
        "patients",
        "devices",
        "hr_samples",
        "step_samples",
        "daily_summaries",
        "dirty_days",
    } <= tables


def test_a_changed_applied_migration_is_refused(
    make_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_database()
    original = available_migrations()
    edited = [
        Migration(m.version, m.name, m.sql + "\n-- edited") if m.version == 1 else m
        for m in original
    ]
    monkeypatch.setattr("service.db.migrate.available_migrations", lambda: edited)
    with pytest.raises(DatabaseUnavailableError, match="was changed after it was applied"):
        upgrade(url)


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="cannot connect"):
        upgrade("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
