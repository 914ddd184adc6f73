"""Row deletions shared by acks, quarantine and capacity drops; run inside the store's transaction."""

from __future__ import annotations

import logging
import sqlite3

from collector.outbox._types import Batch

__all__ = ["drop_oldest", "remove_batch"]

_log = logging.getLogger(__name__)


def drop_oldest(conn: sqlite3.Connection, n_rows: int) -> int:
    """Delete at least ``n_rows`` oldest rows; a formed batch they touch goes as a whole.

    A formed batch is always the oldest rows, so dropping part of it would change what a retry
    under the same batch id sends; it is dropped entirely instead. Returns the rows deleted.
    """
    row = conn.execute(
        "SELECT id FROM samples ORDER BY id LIMIT 1 OFFSET ?", (n_rows - 1,)
    ).fetchone()
    if row is None:
        cutoff = int(conn.execute("SELECT coalesce(max(id), 0) FROM samples").fetchone()[0])
    else:
        cutoff = int(row[0])
    batch = conn.execute("SELECT batch_id, first_id, last_id FROM batches").fetchone()
    if batch is not None and batch[1] <= cutoff:
        cutoff = max(cutoff, int(batch[2]))
        conn.execute("DELETE FROM batches WHERE batch_id = ?", (batch[0],))
        _log.warning("outbox full: dropped batch %s before it was acknowledged", batch[0])
    return int(conn.execute("DELETE FROM samples WHERE id <= ?", (cutoff,)).rowcount)


def remove_batch(conn: sqlite3.Connection, batch: Batch) -> int:
    """Delete a formed batch and exactly its rows; 0 when it is no longer formed."""
    found = conn.execute("DELETE FROM batches WHERE batch_id = ?", (batch.batch_id,)).rowcount
    if not found:
        return 0
    return int(
        conn.execute(
            "DELETE FROM samples WHERE id BETWEEN ? AND ?", (batch.first_id, batch.last_id)
        ).rowcount
    )
