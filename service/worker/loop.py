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
from dataclasses import dataclass, replace
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

__all__ = ["Worker", "drain", "process_batch", "process_one"]

log = logging.getLogger(__name__)

# Tunable default: look for days after each patient's newest summary once a minute, so that a new
# day has a row soon after midnight also for patients without data. The sweep reads one index
# entry per patient; days with data are queued by ingestion at once.
_SWEEP_INTERVAL_S = 60.0

# Tunable default: a patient's today waits its interval plus up to a quarter more (fixed per
# patient), so that refreshes begun together drift apart; staleness stays within 1.25 intervals
# plus the queue.
TODAY_SPREAD = 0.25

# recomputed: stored; skipped: not judged (before monitoring start, after today);
# retry: failed, tried again after a back-off; set_aside: failed for the last time.
Outcome = Literal["recomputed", "skipped", "retry", "set_aside"]


def _claim_sql(*, batch_days: int, today_interval_s: float) -> sql.Composed:
    """The claim statement: up to ``batch_days`` claimable days, oldest first, in one statement.

    With ``today_interval_s`` > 0, a day still in progress in its patient's zone whose summary
    was computed less than that long ago, plus the patient's spread, waits (it stays queued,
    with one row however often it is dirtied); a day that has ended never waits. The statement
    takes ``now`` and ``stale``.

    The spread is fixed per patient, up to :data:`TODAY_SPREAD` of the interval, from the last
    byte of the patient's id (random in a version-4 UUID). Without it every patient whose today
    began at the same moment (all of one time zone at midnight, a fleet after a restart) was
    refreshed in the same round every interval, a burst that held the API's requests up; with
    it their periods differ, so their refreshes drift apart and stay spread.
    """
    today_wait: sql.Composable = sql.SQL("")
    if today_interval_s > 0:
        # Only a day with a recent in-progress summary looks at its patient's zone (CASE keeps
        # the order), so that one patient's bad zone never fails the claim of everyone's days.
        today_wait = sql.SQL(
            " AND NOT CASE WHEN EXISTS (SELECT 1 FROM daily_summaries s"
            "  WHERE s.patient_id = q.patient_id AND s.day = q.day AND s.status = 'in_progress'"
            # The database's clock, the one computed_at was stamped with.
            "  AND s.computed_at > now() - make_interval(secs => {interval}"
            "   * (1 + {spread} * get_byte(uuid_send(q.patient_id), 15) / 255.0)))"
            "  THEN q.day >= (%(now)s::timestamptz AT TIME ZONE pq.tz)::date ELSE false END"
        ).format(interval=sql.Literal(float(today_interval_s)), spread=sql.Literal(TODAY_SPREAD))
    return sql.SQL(
        "UPDATE dirty_days d SET claimed_at = %(now)s, claimed_by = pg_backend_pid()"
        " FROM (SELECT q.patient_id, q.day FROM dirty_days q"
        "  JOIN patients pq ON pq.id = q.patient_id"
        "  WHERE q.failed_at IS NULL"
        "   AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= %(now)s)"
        "   AND (q.claimed_by IS NULL OR q.claimed_at < %(stale)s"
        "    OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = q.claimed_by))"
        "{today_wait}"
        "  ORDER BY q.queued_at, q.day LIMIT {batch} FOR UPDATE OF q SKIP LOCKED) c, patients p"
        " WHERE d.patient_id = c.patient_id AND d.day = c.day AND p.id = d.patient_id"
        " RETURNING d.patient_id, d.day, d.generation, d.attempts, p.tz, p.monitoring_from"
    ).format(today_wait=today_wait, batch=sql.Literal(int(batch_days)))


# One day, every claimable day: the statement of process_one (and the tests).
_CLAIM_SQL = _claim_sql(batch_days=1, today_interval_s=0)


@dataclass(frozen=True)
class _Claim:
    patient_id: UUID
    day: date
    generation: int
    attempts: int  # failed attempts before this one
    tz: str
    monitoring_from: date | None


async def _claim(
    conn: AsyncConnection[Any],
    *,
    now: datetime,
    options: WorkerOptions,
    batch_days: int = 1,
    pace_today: bool = False,
) -> list[_Claim]:
    """Claim up to ``batch_days`` days in one autocommit statement (the row locks end with it).

    The claims come back in (patient, day) order, so that each patient's days are computed in
    calendar order and each day's history is fresh.
    """
    stale = now - timedelta(seconds=options.claim_lease_s)
    interval_s = options.today_interval_s if pace_today else 0.0
    statement = _claim_sql(batch_days=batch_days, today_interval_s=interval_s)
    cur = await conn.execute(statement, {"now": now, "stale": stale})
    claims = [_Claim(*row) for row in await cur.fetchall()]
    return sorted(claims, key=lambda c: (str(c.patient_id), c.day))


async def _renew(conn: AsyncConnection[Any], claim: _Claim, *, now: datetime) -> _Claim | None:
    """Renew a batch's claim just before computing it; None when it was taken over or finished.

    The generation is read again: whatever queued the day since the claim (ingest, or this
    batch's previous day whose summary changed) committed before the computation starts, so the
    computation covers it and the day is not computed twice for it.
    """
    cur = await conn.execute(
        "UPDATE dirty_days SET claimed_at = %s WHERE patient_id = %s AND day = %s"
        " AND claimed_by = pg_backend_pid() RETURNING generation",
        (now, claim.patient_id, claim.day),
    )
    row = await cur.fetchone()
    return None if row is None else replace(claim, generation=row[0])


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


async def _run_claim(
    conn: AsyncConnection[Any], claim: _Claim, *, now: datetime, options: WorkerOptions
) -> Outcome:
    try:
        return await _process(conn, claim, now=now, options=options)
    except Exception as exc:
        if _connection_lost(conn):
            raise
        return await _record_failure(conn, claim, exc, now=now, options=options)


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
    claims = await _claim(conn, now=now, options=options)
    if not claims:
        return None
    return await _run_claim(conn, claims[0], now=now, options=options)


async def process_batch(
    conn: AsyncConnection[Any],
    *,
    now: datetime | None = None,
    options: WorkerOptions = DEFAULT_OPTIONS,
    pace_today: bool = False,
) -> list[Outcome] | None:
    """Claim up to ``options.batch_days`` days in one statement, compute and finish each in turn.

    None when no day is claimable. With ``pace_today`` (the background worker) a day in progress
    recomputed less than ``options.today_interval_s`` ago is left queued for a later round. Each day is finished in its own short transaction, as in
    :func:`process_one`; a day that fails does not stop the others. A broken connection ends the
    batch: the remaining claims end with the connection's backend and are taken over at once.
    """
    now = now if now is not None else datetime.now(UTC)
    claims = await _claim(
        conn, now=now, options=options, batch_days=options.batch_days, pace_today=pace_today
    )
    if not claims:
        return None
    outcomes: list[Outcome] = []
    for index, claimed in enumerate(claims):
        # The first was claimed just now; the later ones are renewed before their turn.
        claim = claimed if index == 0 else await _renew(conn, claimed, now=now)
        if claim is None:
            continue
        outcomes.append(await _run_claim(conn, claim, now=now, options=options))
    return outcomes


async def drain(
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    *,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    options: WorkerOptions = DEFAULT_OPTIONS,
    pace_today: bool = False,
) -> int:
    """Recompute dirty days, a batch at a time, until none is claimable; return how many were
    recomputed.

    Days waiting for a retry or set aside are left for later, so a failing day never keeps the
    others waiting. With ``pace_today`` (the background worker; an explicit drain such as
    ``rehab analyze`` takes every day) so is a day in progress recomputed less than
    ``options.today_interval_s`` ago: a later round takes it. ``now`` stands for the wall clock (tests); it decides which
    days are still in progress and when a retry is due.
    """
    done = 0
    async with pool.connection() as conn:
        while (
            outcomes := await process_batch(conn, now=now, options=options, pace_today=pace_today)
        ) is not None:
            for outcome in outcomes:
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
    """Runs :func:`drain` (``concurrency`` tasks of it) whenever ingestion notifies, and every
    ``options.poll_s`` seconds.

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
        concurrency: int = 1,
    ):
        if concurrency < 1:
            raise ValueError("a worker needs at least one task")
        self._pool = pool
        self._url = url
        self._options = options
        self._concurrency = concurrency
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
                        # Several tasks overlap one task's database waits with another's
                        # analysis; each claims its own batches.
                        await asyncio.gather(
                            *(
                                drain(self._pool, options=self._options, pace_today=True)
                                for _ in range(self._concurrency)
                            )
                        )
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
