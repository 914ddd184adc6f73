"""Migrations from an empty database: all apply, re-running is a no-op, an edited one is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest

from service.db import available_migrations, upgrade
from service.db.migrate import Migration
from service.errors import DatabaseUnavailableError, MigrationError


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
    with pytest.raises(MigrationError, match="was changed after it was applied"):
        upgrade(url)


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="cannot connect"):
        upgrade("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_monitoring_start_and_newest_sample_are_backfilled(
    make_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database at migration 0013 with a device paired on 2026-05-10 (Berlin) whose samples
    # start on 2026-05-03 and end on 2026-05-12, and a second device without samples.
    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    every = available_migrations()
    monkeypatch.setattr(
        "service.db.migrate.available_migrations", lambda: [m for m in every if m.version < 14]
    )
    upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('t') RETURNING id").fetchone()
        assert team is not None
        patients = [
            conn.execute(
                "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
                " surgery_date) VALUES (%s, %s, 1960, 'Europe/Berlin', 'fusion', '2026-04-01')"
                " RETURNING id",
                (team[0], name),
            ).fetchone()
            for name in ("with data", "paired only", "nothing")
        ]
        with_data, paired_only, _ = (p[0] for p in patients if p is not None)
        device = conn.execute(
            "INSERT INTO devices (patient_id, token_hash, created_at) VALUES"
            " (%s, 'a', '2026-05-10T08:00Z') RETURNING id",
            (with_data,),
        ).fetchone()
        assert device is not None
        conn.execute(
            "INSERT INTO devices (patient_id, token_hash, created_at) VALUES"
            " (%s, 'b', '2026-05-20T22:30Z')",  # 00:30 on 2026-05-21 in Berlin
            (paired_only,),
        )
        conn.execute(
            "INSERT INTO hr_samples (device_id, t, bpm) VALUES (%s, '2026-05-02T22:30Z', 70),"
            " (%s, '2026-05-12T10:00Z', 80)",
            (device[0], device[0]),
        )
        conn.execute(
            "INSERT INTO step_samples (device_id, t, steps, interval_s) VALUES"
            " (%s, '2026-05-12T11:00Z', 10, 60)",
            (device[0],),
        )
    monkeypatch.setattr("service.db.migrate.available_migrations", lambda: every)
    assert [m.version for m in upgrade(url)] == [m.version for m in every if m.version >= 14]
    with psycopg.connect(url) as conn:
        starts = dict(conn.execute("SELECT display_name, monitoring_from::text FROM patients"))
        newest = conn.execute(
            "SELECT token_hash, last_sample_at FROM devices ORDER BY token_hash"
        ).fetchall()
    assert starts == {"with data": "2026-05-03", "paired only": "2026-05-21", "nothing": None}
    assert [t for _, t in newest] == [datetime(2026, 5, 12, 11, 0, tzinfo=UTC), None]
