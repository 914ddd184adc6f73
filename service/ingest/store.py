"""Idempotent bulk storage of a validated batch.

New samples are COPYed (binary) straight into the sample tables. When a batch holds samples that
are already stored, they go through per-connection staging tables instead and are moved with
``INSERT … SELECT … ON CONFLICT DO NOTHING``: a sample whose natural key (device, time) is already
stored is counted as a duplicate and never overwrites what is there. The patient-local days
touched by new samples, and the days without a summary between the patient's previous summarised
day and them, are queued for the worker in the same transaction, so a stored sample (or a gap
before it) is never missed by the analysis and a failed batch leaves nothing behind.

The minute rollups (``sample_minutes``, migration 0018) get what the insert stored in the same
transaction: the whole batch on the COPY path, the rows ``INSERT … RETURNING`` gave back on the
de-duplicating path, so a duplicate never counts twice (service.ingest.rollup).

Lock order (the same for every writer; migration 0017 lists it): the patient's row, taken by the
transaction's first statement, then sample rows in primary-key order (each table's rows sorted by
(sensor, t), tables in the order of :data:`_KINDS`), then the rollup rows in (sensor, minute)
order, then ``dirty_days`` rows in (patient_id, day) order, then the device's row. So two
overlapping batches of one device, a batch and an edit of the patient, or a batch and the worker,
never wait for each other in a circle. A transaction that still loses a deadlock or serialization race (another writer outside
this order) is retried a few times; if it keeps losing, the caller gets the database error, which
the API answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import numpy as np
from psycopg import AsyncConnection, errors, sql

from service.db.epoch import PG_EPOCH
from service.ingest.binary_copy import batch_payload
from service.ingest.rollup import MinuteRows, add_rollups, minute_rows
from service.ingest.validate import (
    BikeColumns,
    CadenceColumns,
    HeartRateColumns,
    ParsedBatch,
    SampleColumns,
    StepColumns,
)

__all__ = ["DEFAULT_CONFLICT_RETRIES", "STAGING_DDL", "IngestResult", "store_batch"]

log = logging.getLogger(__name__)

# Tunable defaults (as Settings.ingest_conflict_retries): a batch that loses a deadlock or
# serialization race is tried again up to 3 times, after 25 ms, 50 ms, 100 ms (each jittered by
# ±50 % so that two colliding uploads do not collide again).
DEFAULT_CONFLICT_RETRIES = 3
_CONFLICT_BACKOFF_S = 0.025

_KINDS: tuple[type[SampleColumns], ...] = (
    HeartRateColumns,
    StepColumns,
    CadenceColumns,
    BikeColumns,
)

# Staging tables live for the connection and empty themselves at commit. Run once per pooled
# connection by the pool's configure hook (service.db.make_pool).
STAGING_DDL = "".join(
    f"CREATE TEMP TABLE IF NOT EXISTS {kind.STAGE} (LIKE {kind.TABLE}) ON COMMIT DELETE ROWS;"
    for kind in _KINDS
)

# A sample can change the judgement of neighbouring days too: a session crossing local midnight
# belongs to the day it started on, and the analysis reads 240 minutes of each neighbouring day
# for that (analysis/data/thresholds.json, sessions.neighbour_context_min). So a sample also
# dirties the days four hours before and after it.
_NEIGHBOUR_CONTEXT = "4 hours"

NOTIFY_CHANNEL = "rehab_dirty_days"

_HOUR_US = 3_600_000_000

_C = TypeVar("_C", bound=SampleColumns)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def _in_key_order(columns: _C) -> _C:
    """The samples sorted by (sensor, t), the order of the sample tables' primary keys.

    Two transactions inserting overlapping keys in one order cannot deadlock on the unique index:
    the later one waits for the earlier one and never the other way round. Batches are mostly in
    order already; that is checked first and costs no copy.
    """
    t_us, sensor = columns.t_us, columns.sensor
    if len(t_us) < 2:
        return columns
    d_sensor = np.diff(sensor.astype(np.int32))
    if bool(np.all((d_sensor > 0) | ((d_sensor == 0) & (np.diff(t_us) >= 0)))):
        return columns
    return columns.take(np.lexsort((t_us, sensor)))


async def _copy_columns(
    conn: AsyncConnection[Any], target: str, device_id: UUID, columns: SampleColumns
) -> None:
    copy_sql = sql.SQL("COPY {} (device_id, t, sensor, {}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(target), sql.SQL(", ").join(map(sql.Identifier, columns.value_names()))
    )
    payload = batch_payload(
        device_id, columns.t_us, [(columns.sensor, ">i2", False), *columns.copy_columns()]
    )
    async with conn.cursor().copy(copy_sql) as copy:
        await copy.write(payload)


def _hours(t_us: np.ndarray) -> set[datetime]:
    """The UTC hours the times fall in (what dirties patient-days)."""
    return {PG_EPOCH + timedelta(hours=int(h)) for h in np.unique(t_us // _HOUR_US)}


def _rollup_rows(per_table: tuple[SampleColumns, ...]) -> MinuteRows:
    hr, steps, cadence, bike = per_table
    assert isinstance(hr, HeartRateColumns)
    assert isinstance(steps, StepColumns)
    assert isinstance(cadence, CadenceColumns)
    assert isinstance(bike, BikeColumns)
    return minute_rows(hr=hr, steps=steps, cadence=cadence, bike=bike)


async def _store_new(
    conn: AsyncConnection[Any], device_id: UUID, per_table: tuple[SampleColumns, ...]
) -> set[datetime]:
    """COPY straight into the sample tables; raises UniqueViolation if any sample is stored.

    Every sample of the batch is new, so the batch itself is what the rollups add.
    """
    hours: set[datetime] = set()
    for columns in per_table:
        if len(columns):
            await _copy_columns(conn, columns.TABLE, device_id, columns)
            hours |= _hours(columns.t_us)
    await add_rollups(conn, device_id, _rollup_rows(per_table))
    return hours


# What the de-duplicating insert gives back of each row it stored: the columns the rollups need,
# packed into one bytea of fixed-size records (service.worker.columns explains the trick). NULLs
# become sentinels: running false, power -1 (a power reading is never negative).
_RETURNED: dict[type[SampleColumns], tuple[tuple[str, str, str], ...]] = {
    HeartRateColumns: (("bpm", "int2send(bpm)", ">i2"),),
    StepColumns: (
        ("steps", "int4send(steps)", ">i4"),
        ("interval_s", "int4send(interval_s)", ">i4"),
    ),
    CadenceColumns: (
        ("spm", "float4send(spm)", ">f4"),
        ("running", "boolsend(coalesce(running, false))", "?"),
    ),
    BikeColumns: (
        ("rpm", "float4send(rpm)", ">f4"),
        ("power_w", "int2send(coalesce(power_w, -1)::int2)", ">i2"),
    ),
}


def _stored_columns(kind: type[SampleColumns], data: bytes) -> SampleColumns:
    """The rows the insert stored, as columns of ``kind`` (RR intervals left out: unused)."""
    spec = _RETURNED[kind]
    dtype = np.dtype([("sensor", ">i2"), ("t", ">i8"), *((name, t) for name, _, t in spec)])
    rec = np.frombuffer(data, dtype=dtype)
    t_us, sensor = rec["t"].astype(np.int64), rec["sensor"].astype(np.int16)
    if kind is HeartRateColumns:
        return HeartRateColumns(
            t_us, sensor, bpm=rec["bpm"].astype(np.int16), rr_s=[None] * len(rec)
        )
    if kind is StepColumns:
        return StepColumns(
            t_us,
            sensor,
            steps=rec["steps"].astype(np.int32),
            interval_s=rec["interval_s"].astype(np.int32),
        )
    if kind is CadenceColumns:
        return CadenceColumns(
            t_us, sensor, spm=rec["spm"].astype(np.float32), running=rec["running"].tolist()
        )
    power = [None if w < 0 else w for w in rec["power_w"].tolist()]
    return BikeColumns(t_us, sensor, rpm=rec["rpm"].astype(np.float32), power_w=power)


async def _store_deduplicated(
    conn: AsyncConnection[Any], device_id: UUID, per_table: tuple[SampleColumns, ...]
) -> tuple[int, set[datetime]]:
    """COPY into staging, then move only the samples not stored yet; return count and hours.

    The rollups add exactly the rows the insert stored (RETURNING), never a duplicate.
    """
    stored: list[SampleColumns] = []
    for columns in per_table:
        kind = type(columns)
        if not len(columns):
            stored.append(columns)
            continue
        await _copy_columns(conn, kind.STAGE, device_id, columns)
        packed = sql.SQL(" || ").join(
            sql.SQL(expr) for expr in ("int2send(sensor)", "timestamptz_send(t)",
                                       *(e for _, e, _ in _RETURNED[kind]))
        )  # fmt: skip
        cur = await conn.execute(
            sql.SQL(
                # In key order, like the COPY (see the module's lock order).
                "WITH ins AS (INSERT INTO {} SELECT * FROM {} ORDER BY sensor, t"
                " ON CONFLICT DO NOTHING RETURNING *)"
                " SELECT string_agg({}, ''::bytea) FROM ins"
            ).format(sql.Identifier(kind.TABLE), sql.Identifier(kind.STAGE), packed),
            binary=True,
        )
        row = await cur.fetchone()
        stored.append(_stored_columns(kind, row[0] if row and row[0] is not None else b""))
    await add_rollups(conn, device_id, _rollup_rows(tuple(stored)))
    hours: set[datetime] = set()
    for columns in stored:
        hours |= _hours(columns.t_us)
    return sum(len(c) for c in stored), hours


# The first statement of every ingest transaction: the patient's row, the lock order's first step
# (migration 0017), before any sample or rollup row. FOR NO KEY UPDATE does not block the
# foreign-key checks of other writers, nor the worker's FOR KEY SHARE; it does serialise the
# batches of one patient's devices with each other and with an edit of the patient.
_LOCK_PATIENT_SQL = "SELECT 1 FROM patients WHERE id = %s FOR NO KEY UPDATE"

# What every stored batch finishes with, in one round trip:
# - read the patient's row (locked by _LOCK_PATIENT_SQL at the start of the transaction) and
#   lower the patient's monitoring start when the batch holds older samples (written only then);
# - queue the patient-local days its new samples touch (and their neighbours), and every day
#   without a summary between the patient's previous summarised or queued day and the batch's
#   newest day, so that a gap is judged as soon as the data after it is. A batch of old data
#   (a backfill) also queues the days without a summary between it and the next summarised or
#   queued day, so that no hole is left below the newest summary (the sweep only looks after
#   it). Days before monitoring start and after the patient's today are never queued. Rows are
#   inserted in day order (the lock order), each with a new generation, so that a worker
#   computing one of these days now computes it again;
# - wake the worker (delivered at commit), record the batch, and the device's last contact and
#   newest sample time.
_FINISH_SQL = (
    "WITH pt AS ("
    " SELECT least(monitoring_from, first_day) AS from_day, today, first_day, last_day,"
    # The patient's summarised or queued day before the batch, and the one after it.
    " (SELECT max(m) FROM ("
    "  (SELECT day FROM daily_summaries WHERE patient_id = %(patient)s AND day < first_day"
    "   ORDER BY day DESC LIMIT 1) UNION ALL"
    "  (SELECT day FROM dirty_days WHERE patient_id = %(patient)s AND day < first_day"
    "   ORDER BY day DESC LIMIT 1)) prev(m)) AS prev_day,"
    " (SELECT min(m) FROM ("
    "  (SELECT day FROM daily_summaries WHERE patient_id = %(patient)s AND day > last_day"
    "   ORDER BY day LIMIT 1) UNION ALL"
    "  (SELECT day FROM dirty_days WHERE patient_id = %(patient)s AND day > last_day"
    "   ORDER BY day LIMIT 1)) nxt(m)) AS next_day"
    " FROM patients, LATERAL (SELECT (now() AT TIME ZONE %(tz)s)::date AS today,"
    "  (%(first)s::timestamptz AT TIME ZONE %(tz)s)::date AS first_day,"
    "  (%(last)s::timestamptz AT TIME ZONE %(tz)s)::date AS last_day) b"
    " WHERE id = %(patient)s),"
    " monitoring AS ("
    " UPDATE patients p SET monitoring_from = pt.from_day FROM pt WHERE p.id = %(patient)s"
    " AND (p.monitoring_from IS NULL OR p.monitoring_from > pt.from_day)),"
    " days AS ("
    " INSERT INTO dirty_days (patient_id, day)"
    " SELECT %(patient)s::uuid, q.d FROM pt, ("
    "  SELECT d FROM unnest(%(hours)s::timestamptz[]) h,"
    "  LATERAL (VALUES ((h AT TIME ZONE %(tz)s)::date),"
    "   (((h - %(context)s::interval) AT TIME ZONE %(tz)s)::date),"
    "   (((h + interval '1 hour' + %(context)s::interval) AT TIME ZONE %(tz)s)::date)) v(d)"
    # Between the previous day and the batch, and between the batch and the next day, no day
    # has a summary; inside the batch's span only the days without one.
    "  UNION SELECT g::date FROM pt, generate_series(greatest(pt.from_day, pt.prev_day + 1),"
    "   pt.first_day - 1, interval '1 day') g"
    "  UNION SELECT g::date FROM pt, generate_series(pt.first_day, pt.last_day, interval '1 day') g"
    "   WHERE NOT EXISTS (SELECT 1 FROM daily_summaries s WHERE s.patient_id = %(patient)s"
    "   AND s.day BETWEEN pt.first_day AND pt.last_day AND s.day = g::date)"
    "  UNION SELECT g::date FROM pt, generate_series(pt.last_day + 1, pt.next_day - 1,"
    "   interval '1 day') g"
    " ) q(d)"
    " WHERE cardinality(%(hours)s::timestamptz[]) > 0 AND q.d BETWEEN pt.from_day AND pt.today"
    " ORDER BY q.d"
    " ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now(), generation = DEFAULT),"
    " batch AS ("
    " INSERT INTO ingest_batches (device_id, batch_id, n_samples, accepted, duplicates)"
    " VALUES (%(device)s, %(batch)s, %(n)s, %(accepted)s, %(duplicates)s)"
    " ON CONFLICT (device_id, batch_id) DO NOTHING),"
    " device AS (UPDATE devices SET last_seen_at = now(),"
    " last_sample_at = greatest(last_sample_at, %(last)s::timestamptz) WHERE id = %(device)s)"
    " SELECT pg_notify(%(channel)s, '') WHERE cardinality(%(hours)s::timestamptz[]) > 0"
)


def _span(per_table: tuple[SampleColumns, ...]) -> tuple[datetime, datetime]:
    """The first and the last sample time of a batch (UTC)."""
    times = [columns.t_us for columns in per_table if len(columns)]
    first_us = min(int(t.min()) for t in times)
    last_us = max(int(t.max()) for t in times)
    return PG_EPOCH + timedelta(microseconds=first_us), PG_EPOCH + timedelta(microseconds=last_us)


def _conflict_backoff_s(attempt: int) -> float:
    """The jittered wait before retry ``attempt`` (0, 1, …) of a transaction that lost a race."""
    jitter = random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not a secret
    return float(_CONFLICT_BACKOFF_S * 2**attempt * jitter)


async def store_batch(
    conn: AsyncConnection[Any],
    *,
    device_id: UUID,
    patient_id: UUID,
    tz: str,
    batch: ParsedBatch,
    conflict_retries: int = DEFAULT_CONFLICT_RETRIES,
) -> IngestResult:
    """Store ``batch`` for ``device_id`` in one transaction; return accepted/duplicate counts.

    New data, the common case, is COPYed straight into the sample tables. If any sample is already
    stored (a re-sent batch, an overlap after a reconnect) that transaction is rolled back and the
    batch goes through the staging tables in a new one, which skips what is there. A transaction
    that loses a deadlock or serialization race is rolled back and tried again, up to
    ``conflict_retries`` times; then the error is raised (the API answers 503 with Retry-After).
    """
    per_table = tuple(_in_key_order(columns) for columns in batch.per_table())
    span = _span(per_table)
    for attempt in range(conflict_retries + 1):
        try:
            return await _store(conn, device_id, patient_id, tz, batch, per_table, span)
        except (errors.DeadlockDetected, errors.SerializationFailure) as exc:
            if attempt == conflict_retries:
                raise
            log.info(
                "an ingest transaction lost a lock race (SQLSTATE %s); retry %d of %d",
                exc.sqlstate,
                attempt + 1,
                conflict_retries,
            )
            await asyncio.sleep(_conflict_backoff_s(attempt))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def _store(
    conn: AsyncConnection[Any],
    device_id: UUID,
    patient_id: UUID,
    tz: str,
    batch: ParsedBatch,
    per_table: tuple[SampleColumns, ...],
    span: tuple[datetime, datetime],
) -> IngestResult:
    try:
        async with conn.transaction():
            await conn.execute(_LOCK_PATIENT_SQL, (patient_id,))
            hours = await _store_new(conn, device_id, per_table)
            accepted = batch.n_samples
            await _finish(conn, device_id, patient_id, tz, batch, accepted, hours, span)
    except errors.UniqueViolation:
        async with conn.transaction():
            await conn.execute(_LOCK_PATIENT_SQL, (patient_id,))
            accepted, hours = await _store_deduplicated(conn, device_id, per_table)
            await _finish(conn, device_id, patient_id, tz, batch, accepted, hours, span)
    return IngestResult(accepted=accepted, duplicates=batch.n_samples - accepted)


async def _finish(
    conn: AsyncConnection[Any],
    device_id: UUID,
    patient_id: UUID,
    tz: str,
    batch: ParsedBatch,
    accepted: int,
    hours: set[datetime],
    span: tuple[datetime, datetime],
) -> None:
    await conn.execute(
        _FINISH_SQL,
        {
            "patient": patient_id,
            "hours": sorted(hours),
            "first": span[0],
            "last": span[1],
            "tz": tz,
            "device": device_id,
            "batch": batch.batch_id,
            "n": batch.n_samples,
            "accepted": accepted,
            "duplicates": batch.n_samples - accepted,
            "context": _NEIGHBOUR_CONTEXT,
            "channel": NOTIFY_CHANNEL,
        },
    )
