"""Read sample columns straight into numpy arrays.

Fetching 86,400 rows as Python tuples, or row by row from a ``COPY … TO STDOUT`` (libpq hands
out one row per call), costs on the order of 100 ms per patient-day. Instead PostgreSQL packs
the columns into a single ``bytea`` of fixed-size records with each type's binary send function
(big-endian; ``timestamptz_send`` gives microseconds since 2000-01-01 UTC), and
``numpy.frombuffer`` reads that as a structured array in one step. The query's output must have
no NULLs (``coalesce`` them to a sentinel first).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql

from service.db.epoch import PG_EPOCH_S

__all__ = ["fetch_columns"]


# PostgreSQL type → (binary send function, numpy dtype of its output).
_SEND = {
    "timestamptz": ("timestamptz_send", ">i8"),
    "int2": ("int2send", ">i2"),
    "int4": ("int4send", ">i4"),
    "float4": ("float4send", ">f4"),
    "bool": ("boolsend", "?"),
}


async def fetch_columns(
    conn: AsyncConnection[Any], query: sql.Composable, columns: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """Run ``query`` (its columns in the order of ``columns``) and return one float64 array each.

    Timestamps come back as epoch seconds (UTC).
    """
    names = [sql.Identifier(name) for name, _ in columns]
    packed = sql.SQL(" || ").join(
        sql.SQL("{}({})").format(sql.SQL(_SEND[pg_type][0]), name)
        for name, (_, pg_type) in zip(names, columns, strict=True)
    )
    statement = sql.SQL("SELECT string_agg({}, ''::bytea) FROM ({}) AS s({})").format(
        packed, query, sql.SQL(", ").join(names)
    )
    cur = await conn.execute(statement, binary=True)
    row = await cur.fetchone()
    data: bytes = row[0] if row is not None and row[0] is not None else b""
    dtype = np.dtype([(name, _SEND[pg_type][1]) for name, pg_type in columns])
    records = np.frombuffer(data, dtype=dtype)
    out: dict[str, np.ndarray] = {}
    for name, pg_type in columns:
        values = records[name].astype(np.float64)
        out[name] = values / 1e6 + PG_EPOCH_S if pg_type == "timestamptz" else values
    return out
