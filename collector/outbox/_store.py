"""The durable outbox: samples wait here, on disk, until the service acknowledges them."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from collector.errors import OutboxError
from collector.outbox._rows import drop_oldest, remove_batch
from collector.outbox._schema import connect
from collector.outbox._types import AppendResult, Batch, OutboxStatus, QuarantinedBatch
from collector.wire import Sample, assemble_batch, encode_sample

__all__ = ["DEFAULT_CAPACITY_SAMPLES", "Outbox"]

_log = logging.getLogger(__name__)

# 30 days of one band: 30 × 86,400 s × 1 Hz heart rate = 2,592,000 rows, plus 30 × 1,440
# per-minute step counts = 43,200 rows, total 2,635,200; rounded up to 2.7 M to leave room for
# cadence and bike samples (a 20-minute ride a day at 1 Hz is 36,000 rows a month). At about
# 90 bytes a row this is ≈ 250 MB of SQLite.
DEFAULT_CAPACITY_SAMPLES = 2_700_000

# Bytes that wrap the samples array in a request body: {"batch_id":"<36 chars>","samples":[]}.
_BODY_OVERHEAD_BYTES = 64


class Outbox:
    """SQLite outbox (WAL, ``synchronous=FULL``) shared by one writer and one uploader.

    Every public method takes an internal lock, so one writer thread or task and one uploader may
    call it concurrently (from ``asyncio.to_thread``). At most one batch is formed at a time: it is
    the oldest rows, and it keeps its batch id until :meth:`ack`, :meth:`quarantine` or a capacity
    drop removes it, so after a crash the same id is re-sent with the same samples.

    Parameters
    ----------
    path
        Database file; created with its parent directories.
    capacity_samples
        Most rows kept; beyond it the oldest rows are dropped, logged and counted.
    clock
        Wall clock in epoch seconds, for ``formed_at_s``, ``last_upload_s`` and batch age.
    """

    def __init__(
        self,
        path: Path,
        *,
        capacity_samples: int = DEFAULT_CAPACITY_SAMPLES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if capacity_samples < 1:
            raise ValueError(f"capacity_samples must be at least 1, got {capacity_samples}")
        self.path = path
        self.capacity_samples = capacity_samples
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = connect(path)
        self._depth = 0
        with self._tx() as conn:
            self._depth = int(conn.execute("SELECT count(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        """Close the database; un-acknowledged rows and the formed batch stay on disk."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction; translate sqlite3 errors once, here."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    self._depth = int(
                        self._conn.execute("SELECT count(*) FROM samples").fetchone()[0]
                    )
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise OutboxError(f"outbox {self.path}: {exc}", path=str(self.path)) from exc

    @staticmethod
    def _bump(conn: sqlite3.Connection, name: str, amount: float) -> None:
        conn.execute("UPDATE counters SET value = value + ? WHERE name = ?", (amount, name))

    # -- writer side -------------------------------------------------------------------------

    def append(self, samples: Sequence[Sample]) -> AppendResult:
        """Encode and append samples; durable on disk when this returns."""
        return self.append_encoded(
            t_s=[s.t_s for s in samples], bodies=[encode_sample(s) for s in samples]
        )

    def append_encoded(self, *, t_s: Sequence[float], bodies: Sequence[bytes]) -> AppendResult:
        """Append samples already encoded by :mod:`collector.wire`, in one transaction.

        Parameters
        ----------
        t_s
            Sample times, epoch seconds UTC, one per body.
        bodies
            Each sample's JSON object bytes (``encode_sample`` or the ``encode_*_series`` helpers).
        """
        if len(t_s) != len(bodies):
            raise ValueError(f"t_s has {len(t_s)} items but bodies has {len(bodies)}")
        n_new = len(bodies)
        if n_new == 0:
            return AppendResult(appended=0, dropped=0)
        skip = max(0, n_new - self.capacity_samples)
        rows = zip((round(t * 1000) for t in t_s[skip:]), bodies[skip:], strict=True)
        with self._tx() as conn:
            dropped = skip
            excess = self._depth + (n_new - skip) - self.capacity_samples
            if excess > 0:
                removed = drop_oldest(conn, excess)
                self._depth -= removed
                dropped += removed
            conn.executemany("INSERT INTO samples (t_ms, body) VALUES (?, ?)", rows)
            if dropped:
                self._bump(conn, "dropped_samples", dropped)
            self._depth += n_new - skip
        if dropped:
            _log.warning(
                "outbox %s full (%d samples): dropped the %d oldest samples",
                self.path,
                self.capacity_samples,
                dropped,
            )
        return AppendResult(appended=n_new - skip, dropped=dropped)

    # -- uploader side -----------------------------------------------------------------------

    def next_batch(
        self,
        *,
        max_samples: int,
        max_bytes: int,
        min_samples: int = 1,
        max_age_s: float | None = None,
    ) -> Batch | None:
        """Return the formed batch, or form one from the oldest rows when enough are waiting.

        A new batch holds up to ``max_samples`` rows and at most ``max_bytes`` of body. It is only
        formed when at least ``min_samples`` rows wait or the oldest waiting sample is older than
        ``max_age_s`` seconds; otherwise ``None`` (also when the outbox is empty).
        """
        if max_samples < 1 or max_bytes <= _BODY_OVERHEAD_BYTES:
            raise ValueError(f"batch limits too small: {max_samples} samples, {max_bytes} bytes")
        with self._tx() as conn:
            formed = conn.execute(
                "SELECT batch_id, first_id, last_id, formed_at_s FROM batches"
            ).fetchone()
            if formed is not None:
                batch_id, first_id, last_id, formed_at_s = formed
                bodies = [
                    b
                    for (b,) in conn.execute(
                        "SELECT body FROM samples WHERE id BETWEEN ? AND ? ORDER BY id",
                        (first_id, last_id),
                    )
                ]
                return Batch(
                    batch_id=batch_id,
                    body=assemble_batch(batch_id, bodies),
                    n_samples=len(bodies),
                    first_id=first_id,
                    last_id=last_id,
                    formed_at_s=formed_at_s,
                )
            rows = conn.execute(
                "SELECT id, t_ms, body FROM samples ORDER BY id LIMIT ?", (max_samples,)
            ).fetchall()
            if not rows:
                return None
            now_s = self._clock()
            old_enough = max_age_s is not None and now_s - rows[0][1] / 1000 >= max_age_s
            if len(rows) < min_samples and not old_enough:
                return None
            size = _BODY_OVERHEAD_BYTES
            n_take = 0
            for _, _, body in rows:
                size += len(body) + 1
                if size > max_bytes and n_take > 0:
                    break
                n_take += 1
            taken = rows[:n_take]
            batch_id = str(uuid.uuid4())
            first_id, last_id = int(taken[0][0]), int(taken[-1][0])
            conn.execute(
                "INSERT INTO batches (batch_id, first_id, last_id, n_samples, formed_at_s)"
                " VALUES (?, ?, ?, ?, ?)",
                (batch_id, first_id, last_id, n_take, now_s),
            )
        return Batch(
            batch_id=batch_id,
            body=assemble_batch(batch_id, (body for _, _, body in taken)),
            n_samples=n_take,
            first_id=first_id,
            last_id=last_id,
            formed_at_s=now_s,
        )

    def ack(self, batch: Batch) -> int:
        """Delete exactly the rows of an acknowledged batch; returns how many were deleted.

        Returns 0 when the batch is no longer in the outbox (a capacity drop removed it).
        """
        with self._tx() as conn:
            deleted = remove_batch(conn, batch)
            self._depth -= deleted
            if deleted:
                self._bump(conn, "acked_samples", deleted)
            conn.execute(
                "UPDATE counters SET value = ? WHERE name = 'last_upload_s'", (self._clock(),)
            )
        return deleted

    def release(self, batch: Batch) -> bool:
        """Dissolve a formed batch that the service stored nothing of, so that its rows can be
        formed again, for instance into smaller batches after a ``413``. Returns whether the
        batch was still formed.
        """
        with self._tx() as conn:
            found = conn.execute(
                "DELETE FROM batches WHERE batch_id = ?", (batch.batch_id,)
            ).rowcount
        return bool(found)

    def quarantine(self, batch: Batch, *, status_code: int, reason: str) -> int:
        """Move a refused batch out of the queue into quarantine, with the server's reason."""
        with self._tx() as conn:
            deleted = remove_batch(conn, batch)
            self._depth -= deleted
            if not deleted:
                return 0
            conn.execute(
                "INSERT OR REPLACE INTO quarantine"
                " (batch_id, status_code, reason, n_samples, quarantined_at_s, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (batch.batch_id, status_code, reason, deleted, self._clock(), batch.body),
            )
            self._bump(conn, "quarantined_batches", 1)
            self._bump(conn, "quarantined_samples", deleted)
        _log.error(
            "batch %s (%d samples) quarantined after HTTP %d: %s",
            batch.batch_id,
            deleted,
            status_code,
            reason,
        )
        return deleted

    # -- inspection --------------------------------------------------------------------------

    def quarantined(self) -> list[QuarantinedBatch]:
        """Quarantined batches, oldest first."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT batch_id, status_code, reason, n_samples, quarantined_at_s, body"
                " FROM quarantine ORDER BY quarantined_at_s, batch_id"
            ).fetchall()
        return [QuarantinedBatch(*row) for row in rows]

    def status(self) -> OutboxStatus:
        """Depth, capacity, the formed batch and the persistent counters."""
        with self._tx() as conn:
            counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
            formed = conn.execute("SELECT batch_id FROM batches").fetchone()
            oldest = conn.execute("SELECT t_ms FROM samples ORDER BY id LIMIT 1").fetchone()
            depth = self._depth
        last_upload_s = counters["last_upload_s"]
        return OutboxStatus(
            depth_samples=depth,
            capacity_samples=self.capacity_samples,
            pending_batch_id=None if formed is None else formed[0],
            acked_samples=int(counters["acked_samples"]),
            dropped_samples=int(counters["dropped_samples"]),
            quarantined_batches=int(counters["quarantined_batches"]),
            quarantined_samples=int(counters["quarantined_samples"]),
            last_upload_s=None if last_upload_s == 0 else float(last_upload_s),
            oldest_t_s=None if oldest is None else oldest[0] / 1000,
        )
