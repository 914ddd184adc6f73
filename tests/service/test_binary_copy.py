"""The numpy-built COPY data is byte-identical to psycopg's own binary row formatting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import pq
from psycopg._copy_base import BinaryFormatter
from psycopg.adapt import Transformer

from service.ingest.binary_copy import FLOAT4_ARRAY, batch_payload, copy_payload, float4_arrays
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
    hr = copy_payload(device, t_us, [(sensor, ">i2"), (bpm, ">i2"), None])
    assert hr == expected_hr
    assert copy_payload(device, t_us, [(sensor, ">i2"), (steps, ">i4"), (interval, ">i4")]) == (
        expected_steps
    )


def _postgresql_bytes(conn: psycopg.Connection[object], select: str) -> bytes:
    """PostgreSQL's own binary COPY output of ``select``."""
    out = bytearray()
    with conn.cursor().copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
        for chunk in copy:
            out += chunk
    return bytes(out)


def test_rr_interval_arrays_match_postgresql(session_db_url: str) -> None:
    device = uuid.uuid4()
    rr = [[0.81, 0.8], [0.7, 0.75], [1.5, 0.25]]
    times = [f"2026-05-10T09:00:0{i}Z" for i in range(3)]
    with psycopg.connect(session_db_url) as conn:
        rows = ", ".join(
            f"('{t}'::timestamptz, ARRAY{r}::float4[])" for t, r in zip(times, rr, strict=True)
        )
        expected = _postgresql_bytes(
            conn, f"SELECT '{device}'::uuid, t, 70::int2, rr FROM (VALUES {rows}) v(t, rr)"
        )
        expected_empty = _postgresql_bytes(
            conn, f"SELECT '{device}'::uuid, '{times[0]}'::timestamptz, 70::int2, '{{}}'::float4[]"
        )
    t_us = times_us(times)
    bpm = np.full(3, 70, dtype=np.int16)
    arrays = float4_arrays(np.array(rr, dtype=np.float32))
    assert copy_payload(device, t_us, [(bpm, ">i2"), arrays]) == expected
    empty = float4_arrays(np.zeros((1, 0), dtype=np.float32))
    assert copy_payload(device, t_us[:1], [(bpm[:1], ">i2"), empty]) == expected_empty


# (table, value columns, rows of (sensor, *values)) with every NULL and array-length mix ingest
# can produce; batch_payload writes them in groups, PostgreSQL must read back every row.
MIXED = [
    (
        "hr_samples",
        [("bpm", ">i2", False), ("rr_s", FLOAT4_ARRAY, True)],
        [(0, 70, None), (1, 71, [0.85]), (0, 72, []), (2, 73, [0.5, 0.25]), (0, 74, None)],
    ),
    ("step_samples", [("steps", ">i4", False), ("interval_s", ">i4", False)], [(0, 90, 60)]),
    (
        "cadence_samples",
        [("spm", ">f4", False), ("running", "?", True)],
        [(0, 100.5, None), (0, 150.0, True), (1, 90.0, False)],
    ),
    (
        "bike_samples",
        [("rpm", ">f4", False), ("power_w", ">i2", True)],
        [(0, 60.0, None), (0, 61.5, 45), (3, 62.0, None)],
    ),
]


@pytest.mark.parametrize(("table", "fields", "rows"), MIXED, ids=[m[0] for m in MIXED])
def test_mixed_rows_round_trip_through_postgresql(
    session_db_url: str,
    table: str,
    fields: list[tuple[str, str, bool]],
    rows: list[tuple[Any, ...]],
) -> None:
    device = uuid.uuid4()
    t0 = datetime(2026, 5, 10, 9, tzinfo=UTC)
    times = [t0 + timedelta(seconds=i) for i in range(len(rows))]
    t_us = times_us([t.isoformat().replace("+00:00", "Z") for t in times])
    columns: list[tuple[Any, str, bool]] = [
        (np.array([r[0] for r in rows], dtype=np.int16), ">i2", False)
    ]
    columns += [
        ([r[i + 1] for r in rows], dtype, optional) for i, (_, dtype, optional) in enumerate(fields)
    ]
    names = ", ".join(name for name, _, _ in fields)
    with psycopg.connect(session_db_url) as conn:
        with conn.cursor().copy(
            f"COPY {table} (device_id, t, sensor, {names}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(batch_payload(device, t_us, columns))
        stored = conn.execute(
            f"SELECT t, sensor, {names} FROM {table} WHERE device_id = %s ORDER BY t", (device,)
        ).fetchall()
        conn.rollback()
    assert len(stored) == len(rows)
    for (t, *got), expected_t, row in zip(stored, times, rows, strict=True):
        assert t == expected_t
        assert got[0] == row[0]
        for value, want in zip(got[1:], row[1:], strict=True):
            if isinstance(want, list):
                assert value == pytest.approx(want)
            else:
                assert value == (pytest.approx(want) if isinstance(want, float) else want)
