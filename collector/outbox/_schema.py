"""SQLite schema and connection settings of the outbox."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from collector.errors import OutboxError

__all__ = ["COUNTER_NAMES", "SCHEMA_VERSION", "connect"]

SCHEMA_VERSION = 1

# Row ids come from AUTOINCREMENT so they never repeat, even after the table empties: a formed
# batch is the id range [first_id, last_id] and rows appended later always sort after it.
_DDL = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t_ms INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    n_samples INTEGER NOT NULL,
    formed_at_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id TEXT PRIMARY KEY,
    status_code INTEGER NOT NULL,
    reason TEXT NOT NULL,
    n_samples INTEGER NOT NULL,
    quarantined_at_s REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""

COUNTER_NAMES = (
    "acked_samples",
    "dropped_samples",
    "quarantined_batches",
    "quarantined_samples",
    "last_upload_s",
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the outbox database in WAL mode with ``synchronous=FULL``.

    WAL lets the uploader read while the writer appends; FULL makes every commit durable across a
    power cut, so a sample counts as collected only once it is on disk (sqlite.org/pragma.html).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are explicit BEGIN IMMEDIATE ... COMMIT in the store.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise OutboxError(f"outbox {path} cannot use WAL (journal_mode={mode})", path=str(path))
        conn.execute("PRAGMA synchronous=FULL")
        # Tunable default: wait up to 5 s for a lock held by another process (a status reader).
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            conn.close()
            raise OutboxError(
                f"outbox {path} has schema version {version}; this collector knows "
                f"{SCHEMA_VERSION}",
                path=str(path),
            )
        conn.executescript(_DDL)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.executemany(
            "INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)",
            [(name,) for name in COUNTER_NAMES],
        )
    except sqlite3.Error as exc:
        raise OutboxError(f"cannot open outbox {path}: {exc}", path=str(path)) from exc
    return conn
