"""The worker loop: claim a dirty patient-day, recompute it, repeat; sleep on LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from service.ingest.store import NOTIFY_CHANNEL
from service.worker.recompute import recompute_day
from service.worker.sweep import queue_missing_days

__all__ = ["Worker", "drain", "process_one"]

log = logging.getLogger(__name__)

# Tunable default: look for unsummarised days every ten minutes (days change once a day; the
# sweep scans every monitored patient-day, so it should not run on every notification).
_SWEEP_INTERVAL_S = 600.0


async def process_one(conn: AsyncConnection[Any]) -> bool:
    """Recompute the oldest dirty patient-day not claimed by another worker; False when none.

    Days queued together are taken in calendar order, so that each day's history is fresh.
    """
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT d.patient_id, d.day, p.tz FROM dirty_days d JOIN patients p ON p.id = d.patient_id"
            " ORDER BY d.queued_at, d.day LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
        )
        row = await cur.fetchone()
        if row is None:
            return False
        patient_id, day, tz = row
        await recompute_day(conn, patient_id=patient_id, tz=tz, day=day)
        await conn.execute(
            "DELETE FROM dirty_days WHERE patient_id = %s AND day = %s", (patient_id, day)
        )
    return True


async def drain(
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Recompute dirty days until none is left; return how many were recomputed."""
    done = 0
    async with pool.connection() as conn:
        while await process_one(conn):
            done += 1
            if on_progress is not None:
                on_progress(done)
    return done


class Worker:
    """Runs :func:`drain` whenever ingestion notifies, and every ``poll_s`` seconds regardless.

    Each round first queues the calendar days that have no summary yet (``sweep``), so that days
    without data are judged too.
    """

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], url: str, *, poll_s: float):
        self._pool = pool
        self._url = url
        self._poll_s = poll_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rehab-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                async with await AsyncConnection.connect(self._url, autocommit=True) as listener:
                    await listener.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL))
                    )
                    last_sweep = -_SWEEP_INTERVAL_S
                    while True:
                        if time.monotonic() - last_sweep >= _SWEEP_INTERVAL_S:
                            async with self._pool.connection() as conn:
                                await queue_missing_days(conn)
                            last_sweep = time.monotonic()
                        await drain(self._pool)
                        # Wake on the first notification or after poll_s, whichever comes first.
                        async for _ in listener.notifies(timeout=self._poll_s, stop_after=1):
                            pass
            except asyncio.CancelledError:
                raise
            except Exception:
                # Logged once per failure with the traceback; the loop retries after a pause so a
                # database restart does not stop the worker.
                log.exception("analysis worker failed; retrying in %.0f s", self._poll_s)
                await asyncio.sleep(self._poll_s)
