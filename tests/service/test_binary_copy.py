"""The numpy-built COPY data is byte-identical to psycopg's own binary row formatting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
from psycopg import pq
from psycopg._copy_base import BinaryFormatter
from psycopg.adapt import Transformer

from service.ingest.binary_copy import copy_payload
from service.ingest.times import times_us


def _psycopg_bytes(
    conn: psycopg.Connection[object], types: list[str], rows: list[tuple[object, ...]]
) -> bytes:
    tx = Transformer(conn)
    tx.set_dumper_types([conn.adapters.types[name].oid for name in types], pq.Format.BINARY)
    formatter = BinaryFormatter(tx)
    out = bytearray()
    for row in rows:
        out += formatter.write_row(row)
    out += formatter.end()
    return bytes(out)


def test_heart_rate_and_steps_payloads_match_psycopg(session_db_url: str) -> None:
    device = uuid.uuid4()
    t0 = datetime(2026, 3, 29, 0, 59, 59, 250_000, tzinfo=UTC)
    times = [t0 + timedelta(seconds=i, microseconds=7 * i) for i in range(1000)]
    bpm = np.arange(1000, dtype=np.int16) % 200 + 30
    steps = np.arange(1000, dtype=np.int32) % 240
    interval = np.full(1000, 60, dtype=np.int32)
    sensor = (np.arange(1000) % 3).astype(np.int16)
    with psycopg.connect(session_db_url) as conn:
        expected_hr = _psycopg_bytes(
            conn,
            ["uuid", "timestamptz", "int2", "int2", "float4[]"],
            [(device, t, int(n), int(b), None) for t, n, b in zip(times, sensor, bpm, strict=True)],
        )
        expected_steps = _psycopg_bytes(
            conn,
            ["uuid", "timestamptz", "int2", "int4", "int4"],
            [
                (device, t, int(n), int(s), int(i))
                for t, n, s, i in zip(times, sensor, steps, interval, strict=True)
            ],
        )
    # The wire's RFC 3339 texts, parsed the way ingest parses them, give psycopg's instants.
    t_us = times_us([t.isoformat().replace("+00:00", "Z") for t in times])
    # The shapes ingest writes: (device_id, t, sensor, bpm, rr_s NULL) and
    # (device_id, t, sensor, steps, interval_s).
    hr = copy_payload(device, t_us, [(sensor, ">i2"), (bpm, ">i2")], trailing_nulls=1)
    assert hr == expected_hr
    assert copy_payload(device, t_us, [(sensor, ">i2"), (steps, ">i4"), (interval, ">i4")]) == (
        expected_steps
    )
