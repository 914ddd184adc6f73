"""``rehab bench storage``: bytes per patient-month raw and compressed, on a TimescaleDB server.

A scratch database gets one patient-month (30 days) of 1 Hz heart rate (a slowly varying rate
plus a few bpm of noise) and per-minute steps (waking hours, two walks a day), and the minute
rollups built from them (``service.ingest.rollup.backfill_sql``). Sizes come from
``hypertable_detailed_size`` (table, indexes, TOAST) before and after ``compress_chunk`` on
every chunk; ``chunk_compression_stats`` is printed beside them. A year is 365/30 months.
Needs the timescaledb extension preloaded on the server (deploy/OPERATIONS.md, "Storage").
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from service.bench.scratch import scratch_database
from service.ingest.rollup import backfill_sql

__all__ = ["run"]

_TABLES = ("hr_samples", "step_samples", "sample_minutes")
_MONTH_DAYS = 30
_YEAR_MONTHS = 365 / _MONTH_DAYS
_MIB = 2**20


def _fill(conn: psycopg.Connection[Any], device_id: uuid.UUID) -> None:
    conn.execute(
        "INSERT INTO hr_samples (device_id, t, bpm)"
        " SELECT %s, '2026-05-01'::timestamptz + s * interval '1 second',"
        # A resting rate near 68 with slow swings and noise: compresses like a worn sensor's.
        "   (68 + 12 * sin(s / 900.0) + 6 * sin(s / 97.0) + random() * 4)::int2"
        " FROM generate_series(0, %s::int * 86400 - 1) s",
        (device_id, _MONTH_DAYS),
    )
    conn.execute(
        "INSERT INTO step_samples (device_id, t, steps, interval_s)"
        " SELECT %s, '2026-05-01'::timestamptz + (m + 1) * interval '1 minute',"
        "   CASE WHEN m %% 1440 BETWEEN 600 AND 630 OR m %% 1440 BETWEEN 1080 AND 1100"
        "     THEN 90 + (random() * 25)::int"
        "     WHEN m %% 1440 BETWEEN 420 AND 1320 THEN (random() * 8)::int ELSE 0 END, 60"
        " FROM generate_series(0, %s::int * 1440 - 1) m",
        (device_id, _MONTH_DAYS),
    )
    conn.execute(backfill_sql())
    conn.commit()


def _sizes(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, int, int]]:
    """Rows, total bytes and index bytes of each table."""
    out = {}
    for table in _TABLES:
        row = conn.execute(
            "SELECT index_bytes, total_bytes FROM hypertable_detailed_size(%s)", (table,)
        ).fetchone()
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
        assert row is not None
        assert count is not None
        out[table] = (int(count[0]), int(row[1]), int(row[0]))
    return out


def run(console: Console, *, server_url: str) -> None:
    """Fill one patient-month, compress it, print the sizes and the patient-year extrapolation."""
    with scratch_database(server_url) as db_url, psycopg.connect(db_url) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            is None
        ):
            console.print("needs a TimescaleDB server (timescaledb preloaded); nothing measured")
            return
        with console.status("filling one patient-month at 1 Hz"):
            _fill(conn, uuid.uuid4())
            conn.execute("ANALYZE")
            conn.commit()
        before = _sizes(conn)
        with console.status("compress_chunk on every chunk"):
            for table in _TABLES:
                conn.execute(
                    "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks(%s) c",
                    (table,),
                )
            conn.commit()
        after = _sizes(conn)
        stats = {}
        for table in _TABLES:
            row = conn.execute(
                "SELECT count(*), sum(before_compression_total_bytes),"
                " sum(after_compression_total_bytes) FROM chunk_compression_stats(%s)"
                " WHERE compression_status = 'Compressed'",
                (table,),
            ).fetchone()
            assert row is not None
            stats[table] = (int(row[0]), int(row[1] or 0), int(row[2] or 0))
        version = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
    assert version is not None
    out = Table(
        title=f"one patient-month ({_MONTH_DAYS} days) on TimescaleDB {version[0]}, "
        f"before and after compress_chunk; a year = {_YEAR_MONTHS:.2f} months"
    )
    for column in (
        "table",
        "rows",
        "MiB (index)",
        "compressed MiB",
        "ratio",
        "MiB/year",
        "compressed MiB/year",
        "chunks: stats before → after MiB",
    ):
        out.add_column(column, justify="left" if column == "table" else "right")
    for name in _TABLES:
        rows, raw, index = before[name]
        _, packed, _ = after[name]
        chunks, s_before, s_after = stats[name]
        out.add_row(
            name,
            f"{rows:,}",
            f"{raw / _MIB:,.1f} ({index / _MIB:,.1f})",
            f"{packed / _MIB:,.2f}",
            f"{raw / packed:.0f}x",
            f"{raw * _YEAR_MONTHS / _MIB:,.0f}",
            f"{packed * _YEAR_MONTHS / _MIB:,.1f}",
            f"{chunks}: {s_before / _MIB:,.1f} → {s_after / _MIB:,.2f}",
        )
    raw_total = sum(v[1] for v in before.values())
    packed_total = sum(v[1] for v in after.values())
    out.add_row(
        "total",
        "",
        f"{raw_total / _MIB:,.1f}",
        f"{packed_total / _MIB:,.2f}",
        f"{raw_total / packed_total:.0f}x",
        f"{raw_total * _YEAR_MONTHS / _MIB:,.0f}",
        f"{packed_total * _YEAR_MONTHS / _MIB:,.1f}",
        "",
    )
    console.print(out)
