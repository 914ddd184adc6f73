"""The worker loop: claim a dirty patient-day, recompute it, repeat; sleep on LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from service.ingest.store import NOTIFY_CHANNEL
from service.worker.days import day_bounds, local_day
from service.worker.recompute import recompute_day
from service.worker.sweep import queue_ended_days, queue_missing_days, queue_outdated_days

__all__ = ["Worker", "drain", "process_one"]

log = logging.getLogger(__name__)

# Tunable default: look for days after each patient's newest summary once a minute, so that a new
# day has a row soon after midnight also for patients without data. The sweep reads one index
# entry per patient; days with data are queued by ingestion at once.
_SWEEP_INTERVAL_S = 60.0

Outcome = Literal["recomputed", "skipped"]


async def process_one(conn: AsyncConnection[Any], *, now: datetime | None = None) -> Outcome | None:
    """Recompute the oldest dirty patient-day not claimed by another worker; None when none.

    Days queued together are taken in calendar order, so that each day's history is fresh. A day
    that has not ended at ``now`` (default: the wall clock) in the patient's zone is analysed as
    in progress. A day before the patient's monitoring start is never judged: its queue entry and
    any summary are dropped ("skipped"); a day after the patient's today is dropped too (the
    sweep queues it when it has started).
    """
    now = now if now is not None else datetime.now(UTC)
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT d.patient_id, d.day, p.tz, p.monitoring_from FROM dirty_days d"
            " JOIN patients p ON p.id = d.patient_id"
            " ORDER BY d.queued_at, d.day LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
        )
        row = await cur.fetchone()
        if row is None:
            return None
        patient_id, day, tz, monitoring_from = row
        outcome: Outcome = "recomputed"
        if monitoring_from is None or day < monitoring_from:
            await conn.execute(
                "DELETE FROM daily_summaries WHERE patient_id = %s AND day = %s", (patient_id, day)
            )
            outcome = "skipped"
        elif day > local_day(now, tz):
            outcome = "skipped"
        else:
            day_complete = now >= day_bounds(day, tz).end
            await recompute_day(
                conn, patient_id=patient_id, tz=tz, day=day, day_complete=day_complete
            )
        await conn.execute(
            "DELETE FROM dirty_days WHERE patient_id = %s AND day = %s", (patient_id, day)
        )
    return outcome


async def drain(
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    *,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute dirty days until none is left; return how many were recomputed.

    ``now`` stands for the wall clock (tests); it decides which days are still in progress.
    """
    done = 0
    async with pool.connection() as conn:
        while (outcome := await process_one(conn, now=now)) is not None:
            if outcome == "recomputed":
                done += 1
                if on_progress is not None:
                    on_progress(done)
    return done


class Worker:
    """Runs :func:`drain` whenever ingestion notifies, and every ``poll_s`` seconds regardless.

    On start it queues the summaries of older analysis versions. Each round first queues the
    in-progress days that have ended (so a day is judged whole within a round of its end), and
    once a minute the days after each patient's newest summary (``sweep``), so that days without
    data are judged too.
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
                    async with self._pool.connection() as conn:
                        await queue_outdated_days(conn)
                    last_sweep = -_SWEEP_INTERVAL_S
                    while True:
                        async with self._pool.connection() as conn:
                            await queue_ended_days(conn)
                            if time.monotonic() - last_sweep >= _SWEEP_INTERVAL_S:
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
