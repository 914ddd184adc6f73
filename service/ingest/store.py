"""Idempotent bulk storage of a validated batch.

Rows are COPYed (binary) into per-connection staging tables, then moved into the sample tables
with ``INSERT … SELECT … ON CONFLICT DO NOTHING``: a sample whose natural key (device, time) is
already stored is counted as a duplicate and never overwrites what is there. The patient-local days
touched by new samples are queued for the worker in the same transaction, so a stored sample is
never missed by the analysis and a failed batch leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql

from service.ingest.validate import ParsedBatch

__all__ = ["STAGING_DDL", "IngestResult", "store_batch"]

# (table, staging table, value columns, binary COPY types of (device_id, t, values...))
_TABLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("hr_samples", "stage_hr", ("bpm", "rr_s"), ("uuid", "timestamptz", "int2", "float4[]")),
    (
        "step_samples",
        "stage_steps",
        ("steps", "interval_s"),
        ("uuid", "timestamptz", "int4", "int4"),
    ),
    (
        "cadence_samples",
        "stage_cadence",
        ("spm", "running"),
        ("uuid", "timestamptz", "float4", "bool"),
    ),
    ("bike_samples", "stage_bike", ("rpm", "power_w"), ("uuid", "timestamptz", "float4", "int2")),
)

# Staging tables live for the connection and empty themselves at commit. Run once per pooled
# connection by the pool's configure hook (service.db.make_pool).
STAGING_DDL = "".join(
    f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS;"
    for table, stage, _, _ in _TABLES
)

# A walk or ride that crosses local midnight belongs to the day it started on (analysis rules),
# so a sample also dirties the day two hours earlier; two hours bounds the longest session the
# plans allow (30–60 min) with room to spare.
_SESSION_LOOKBACK = "2 hours"

NOTIFY_CHANNEL = "rehab_dirty_days"


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


async def store_batch(
    conn: AsyncConnection[Any], *, device_id: UUID, patient_id: UUID, tz: str, batch: ParsedBatch
) -> IngestResult:
    """Store ``batch`` for ``device_id`` in one transaction; return accepted/duplicate counts."""
    accepted = 0
    async with conn.transaction():
        per_table: tuple[list[Any], ...] = (
            batch.heart_rate,
            batch.steps,
            batch.cadence,
            batch.bike,
        )
        for (table, stage, columns, types), rows in zip(_TABLES, per_table, strict=True):
            if not rows:
                continue
            copy_sql = sql.SQL("COPY {} (device_id, t, {}) FROM STDIN (FORMAT BINARY)").format(
                sql.Identifier(stage), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            async with conn.cursor().copy(copy_sql) as copy:
                copy.set_types(list(types))
                for row in rows:
                    await copy.write_row((device_id, *row))
            move = sql.SQL(
                "WITH ins AS ("
                " INSERT INTO {table} SELECT * FROM {stage} ON CONFLICT DO NOTHING RETURNING t),"
                " hours AS (SELECT DISTINCT date_trunc('hour', t) AS h FROM ins),"
                " queued AS ("
                "  INSERT INTO dirty_days (patient_id, day)"
                "  SELECT DISTINCT %(patient)s::uuid, d FROM hours, LATERAL (VALUES"
                "   ((h AT TIME ZONE %(tz)s)::date),"
                "   (((h - interval {lookback}) AT TIME ZONE %(tz)s)::date)) v(d)"
                "  ON CONFLICT (patient_id, day) DO UPDATE SET queued_at = now())"
                " SELECT count(*) FROM ins"
            ).format(
                table=sql.Identifier(table),
                stage=sql.Identifier(stage),
                lookback=sql.Literal(_SESSION_LOOKBACK),
            )
            cur = await conn.execute(move, {"patient": patient_id, "tz": tz})
            row = await cur.fetchone()
            accepted += int(row[0]) if row else 0
        duplicates = batch.n_samples - accepted
        await conn.execute(
            "INSERT INTO ingest_batches (device_id, batch_id, n_samples, accepted, duplicates)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (device_id, batch_id) DO NOTHING",
            (device_id, batch.batch_id, batch.n_samples, accepted, duplicates),
        )
        await conn.execute("UPDATE devices SET last_seen_at = now() WHERE id = %s", (device_id,))
        if accepted:
            await conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(NOTIFY_CHANNEL)))
    return IngestResult(accepted=accepted, duplicates=duplicates)
