"""The worker loop: claim a dirty patient-day, compute it, finish it, repeat; sleep on NOTIFY.

Claim, compute, finish (migration 0017 has the queue's columns and the lock order):

1. **Claim** the oldest claimable day in one autocommit statement: it is marked with the time
   and this connection's backend pid, and the row lock ends with the statement. Another worker
   skips a claimed day; a day whose claimer's backend is gone is claimable again at once.
2. **Compute** it without any lock: load the samples, run the analysis.
3. **Finish** in one short transaction, in the documented lock order: the patient's row (key
   share), the day's queue row (deleted if its generation is still the claimed one, else released:
   it was queued again during the computation and is computed again), the summary and alerts,
   the next day's queue row.

A day that fails is retried after a back-off and set aside after ``max_attempts`` (its error
class kept, never the message); the others go on. A broken database connection is not the
day's fault: it ends the round, and the claim ends with the connection's backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from service.ingest.store import NOTIFY_CHANNEL
from service.worker.days import day_bounds, local_day
from service.worker.options import DEFAULT_OPTIONS, WorkerOptions
from service.worker.recompute import compute_day, store_day
from service.worker.sweep import queue_ended_days, queue_missing_days, queue_outdated_days

__all__ = ["Worker", "drain", "process_one"]

log = logging.getLogger(__name__)

# Tunable default: look for days after each patient's newest summary once a minute, so that a new
# day has a row soon after midnight also for patients without data. The sweep reads one index
# entry per patient; days with data are queued by ingestion at once.
_SWEEP_INTERVAL_S = 60.0

# recomputed: stored; skipped: not judged (before monitoring start, after today);
# retry: failed, tried again after a back-off; set_aside: failed for the last time.
Outcome = Literal["recomputed", "skipped", "retry", "set_aside"]

_CLAIM_SQL = (
    "UPDATE dirty_days d SET claimed_at = %(now)s, claimed_by = pg_backend_pid()"
    " FROM (SELECT q.patient_id, q.day FROM dirty_days q"
    "  WHERE q.failed_at IS NULL"
    "   AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= %(now)s)"
    "   AND (q.claimed_by IS NULL OR q.claimed_at < %(stale)s"
    "    OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = q.claimed_by))"
    "  ORDER BY q.queued_at, q.day LIMIT 1 FOR UPDATE OF q SKIP LOCKED) c, patients p"
    " WHERE d.patient_id = c.patient_id AND d.day = c.day AND p.id = d.patient_id"
    " RETURNING d.patient_id, d.day, d.generation, d.attempts, p.tz, p.monitoring_from"
)


@dataclass(frozen=True)
class _Claim:
    patient_id: UUID
    day: date
    generation: int
    attempts: int  # failed attempts before this one
    tz: str
    monitoring_from: date | None


async def _claim(
    conn: AsyncConnection[Any], *, now: datetime, options: WorkerOptions
) -> _Claim | None:
    # One autocommit statement: the row lock ends with it.
    stale = now - timedelta(seconds=options.claim_lease_s)
    cur = await conn.execute(_CLAIM_SQL, {"now": now, "stale": stale})
    row = await cur.fetchone()
    return None if row is None else _Claim(*row)


async def _finish(conn: AsyncConnection[Any], claim: _Claim) -> None:
    """Delete the claimed queue row, or release it when the day was queued again meanwhile."""
    cur = await conn.execute(
        "DELETE FROM dirty_days WHERE patient_id = %s AND day = %s AND generation = %s",
        (claim.patient_id, claim.day, claim.generation),
    )
    if cur.rowcount == 0:
        await conn.execute(
            "UPDATE dirty_days SET claimed_at = NULL, claimed_by = NULL, attempts = 0,"
            " next_attempt_at = NULL WHERE patient_id = %s AND day = %s",
            (claim.patient_id, claim.day),
        )


async def _process(
    conn: AsyncConnection[Any], claim: _Claim, *, now: datetime, options: WorkerOptions
) -> Outcome:
    patient_id, day, tz = claim.patient_id, claim.day, claim.tz
    if claim.monitoring_from is None or day < claim.monitoring_from:
        # Never judged: the entry and any summary go.
        async with conn.transaction():
            await _finish(conn, claim)
            await conn.execute(
                "DELETE FROM daily_summaries WHERE patient_id = %s AND day = %s", (patient_id, day)
            )
        return "skipped"
    if day > local_day(now, tz):
        # Not started yet: the sweep queues it when it has.
        async with conn.transaction():
            await _finish(conn, claim)
        return "skipped"
    day_complete = now >= day_bounds(day, tz).end
    computed = await compute_day(
        conn, patient_id=patient_id, tz=tz, day=day, day_complete=day_complete
    )
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM patients WHERE id = %s FOR KEY SHARE", (patient_id,))
        await _finish(conn, claim)
        await store_day(conn, patient_id=patient_id, day=day, computed=computed, options=options)
    return "recomputed"


def _connection_lost(conn: AsyncConnection[Any]) -> bool:
    return bool(conn.closed or conn.broken)


async def _record_failure(
    conn: AsyncConnection[Any],
    claim: _Claim,
    exc: Exception,
    *,
    now: datetime,
    options: WorkerOptions,
) -> Outcome:
    """Count a failed attempt: retry after a back-off, or set the day aside after the last one."""
    failures = claim.attempts + 1
    error_class = type(exc).__name__[:200]
    set_aside = failures >= options.max_attempts
    next_at = now + options.retry_delay(failures)
    await conn.execute(
        "UPDATE dirty_days SET claimed_at = NULL, claimed_by = NULL, attempts = %(n)s,"
        " next_attempt_at = %(next)s, error_class = %(cls)s,"
        " failed_at = CASE WHEN %(aside)s THEN %(now)s::timestamptz END"
        " WHERE patient_id = %(p)s AND day = %(d)s",
        {
            "n": failures,
            "next": next_at,
            "cls": error_class,
            "aside": set_aside,
            "now": now,
            "p": claim.patient_id,
            "d": claim.day,
        },
    )
    # The class and the stack only: an exception's message can quote data (a database error's
    # DETAIL, a value of the patient's), and no patient is named.
    stack = "".join(traceback.format_tb(exc.__traceback__))
    if set_aside:
        log.error(
            "a patient-day failed %d times (%s); set aside, see `rehab analyze --failed`\n%s",
            failures,
            error_class,
            stack,
        )
        return "set_aside"
    log.warning(
        "a patient-day failed (%s), attempt %d of %d; retrying in %.0f s\n%s",
        error_class,
        failures,
        options.max_attempts,
        options.retry_delay(failures).total_seconds(),
        stack,
    )
    return "retry"


async def process_one(
    conn: AsyncConnection[Any],
    *,
    now: datetime | None = None,
    options: WorkerOptions = DEFAULT_OPTIONS,
) -> Outcome | None:
    """Claim, compute and finish the oldest claimable dirty patient-day; None when there is none.

    Days queued together are taken in calendar order, so that each day's history is fresh. A day
    that has not ended at ``now`` (default: the wall clock; it also times claims and back-offs)
    in the patient's zone is analysed as in progress. A day before the patient's monitoring start
    is never judged: its queue entry and any summary are dropped ("skipped"); a day after the
    patient's today is dropped too (the sweep queues it when it has started).
    """
    now = now if now is not None else datetime.now(UTC)
    claim = await _claim(conn, now=now, options=options)
    if claim is None:
        return None
    try:
        return await _process(conn, claim, now=now, options=options)
    except Exception as exc:
        if _connection_lost(conn):
            raise
        return await _record_failure(conn, claim, exc, now=now, options=options)


async def drain(
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    *,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    options: WorkerOptions = DEFAULT_OPTIONS,
) -> int:
    """Recompute dirty days until none is claimable; return how many were recomputed.

    Days waiting for a retry or set aside are left for later, so a failing day never keeps the
    others waiting. ``now`` stands for the wall clock (tests); it decides which days are still in
    progress and when a retry is due.
    """
    done = 0
    async with pool.connection() as conn:
        while (outcome := await process_one(conn, now=now, options=options)) is not None:
            if outcome == "recomputed":
                done += 1
                if on_progress is not None:
                    on_progress(done)
    return done


async def _guarded(
    conn: AsyncConnection[Any], step: Callable[[AsyncConnection[Any]], Awaitable[int]]
) -> None:
    """Run a queueing step; a failure is logged and the round goes on to drain the queue.

    One patient's bad row must not keep every other patient's days from being judged.
    """
    try:
        await step(conn)
    except Exception as exc:
        if _connection_lost(conn):
            raise
        name = getattr(step, "__name__", "queueing")
        log.error(
            "worker step %s failed (%s); the queue is drained regardless\n%s",
            name,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )


class Worker:
    """Runs :func:`drain` whenever ingestion notifies, and every ``options.poll_s`` seconds.

    On start it queues the summaries of older analysis versions. Each round first queues the
    in-progress days that have ended (so a day is judged whole within a round of its end), and
    once a minute the days after each patient's newest summary (``sweep``), so that days without
    data are judged too.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection[Any]],
        url: str,
        *,
        options: WorkerOptions = DEFAULT_OPTIONS,
    ):
        self._pool = pool
        self._url = url
        self._options = options
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
        poll_s = self._options.poll_s
        while True:
            try:
                async with await AsyncConnection.connect(self._url, autocommit=True) as listener:
                    await listener.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL))
                    )
                    async with self._pool.connection() as conn:
                        await _guarded(conn, queue_outdated_days)
                    last_sweep = -_SWEEP_INTERVAL_S
                    while True:
                        async with self._pool.connection() as conn:
                            await _guarded(conn, queue_ended_days)
                            if time.monotonic() - last_sweep >= _SWEEP_INTERVAL_S:
                                await _guarded(conn, queue_missing_days)
                                last_sweep = time.monotonic()
                        await drain(self._pool, options=self._options)
                        # Wake on the first notification or after poll_s, whichever comes first.
                        async for _ in listener.notifies(timeout=poll_s, stop_after=1):
                            pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Logged once per failure with the stack (no message: it can quote data); the
                # loop retries after a pause so a database restart does not stop the worker.
                log.error(
                    "analysis worker failed (%s); retrying in %.0f s\n%s",
                    type(exc).__name__,
                    poll_s,
                    "".join(traceback.format_tb(exc.__traceback__)),
                )
                await asyncio.sleep(poll_s)
