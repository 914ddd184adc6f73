"""``rehab bench ingest``: samples/s through ``POST /v1/ingest`` next to a plain COPY of the same rows."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
import psycopg
from rich.console import Console
from rich.table import Table

from service.bench.scratch import bench_patient, scratch_database, serve_in_subprocess

__all__ = ["run"]

# 2026-05-01T00:00:00Z, an arbitrary fixed start so that runs are comparable.
_T0_S = 1_777_593_600


@dataclass(frozen=True)
class _Result:
    label: str
    samples: int
    runs: list[float]

    @property
    def seconds(self) -> float:
        return min(self.runs)

    @property
    def rate(self) -> float:
        return self.samples / self.seconds

    @property
    def median_rate(self) -> float:
        return self.samples / statistics.median(self.runs)


def _bodies(n_samples: int, batch_size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    bpm = rng.integers(55, 140, size=n_samples)
    bodies = []
    for start in range(0, n_samples, batch_size):
        samples = [
            {
                "kind": "heart_rate",
                "t": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_T0_S + i)),
                "bpm": int(bpm[i]),
            }
            for i in range(start, min(start + batch_size, n_samples))
        ]
        bodies.append(orjson.dumps({"batch_id": str(uuid.uuid4()), "samples": samples}))
    return bodies


async def _post_all(base_url: str, token: str, bodies: list[bytes], concurrency: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                response = await client.post("/v1/ingest", content=body, headers=headers)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return time.perf_counter() - started


def _plain_copy(db_url: str, n_samples: int, seed: int) -> float:
    """Seconds for one binary COPY of the same rows (fresh device id) into hr_samples."""
    rng = np.random.default_rng(seed)
    bpm = rng.integers(55, 140, size=n_samples)
    device_id = uuid.uuid4()
    t0 = datetime.fromtimestamp(_T0_S, tz=UTC)
    rows = [(device_id, t0 + timedelta(seconds=i), int(bpm[i])) for i in range(n_samples)]
    with psycopg.connect(db_url) as conn:
        started = time.perf_counter()
        with conn.cursor().copy(
            "COPY hr_samples (device_id, t, bpm) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "timestamptz", "int2"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def run(
    console: Console,
    *,
    server_url: str,
    samples: int,
    batch_size: int,
    concurrency: int,
    repeats: int = 5,
    seed: int = 0,
) -> tuple[float, float]:
    """Run both measurements ``repeats`` times, interleaved; print the best of each.

    The service runs as ``rehab serve`` in its own process, so the load generator does not share
    its interpreter. Every repeat uploads for a new device and copies for a new device id, so
    both paths insert new rows into the same table.
    """
    with console.status("preparing request bodies"):
        bodies = _bodies(samples, batch_size, seed)
    ingest_runs: list[float] = []
    copy_runs: list[float] = []
    with scratch_database(server_url) as db_url, serve_in_subprocess(db_url) as base_url:
        for repeat in range(repeats):
            token = asyncio.run(bench_patient(db_url)).device_token
            with console.status(f"POST /v1/ingest, run {repeat + 1} of {repeats}"):
                ingest_runs.append(asyncio.run(_post_all(base_url, token, bodies, concurrency)))
            with console.status(f"plain COPY, run {repeat + 1} of {repeats}"):
                copy_runs.append(_plain_copy(db_url, samples, seed))
    ingest = _Result("POST /v1/ingest (HTTP, validation, COPY, dedup)", samples, ingest_runs)
    copy = _Result("plain binary COPY into hr_samples (baseline)", samples, copy_runs)
    table = Table(
        title=f"ingest: {samples:,} heart-rate samples, batches of {batch_size:,}, "
        f"{concurrency} concurrent uploads, best of {repeats}"
    )
    table.add_column("path")
    table.add_column("seconds", justify="right")
    table.add_column("samples/s", justify="right")
    table.add_column("ratio to COPY", justify="right")
    table.add_column("median samples/s", justify="right")
    table.add_column("median ratio", justify="right")
    for result in (ingest, copy):
        table.add_row(
            result.label,
            f"{result.seconds:.2f}",
            f"{result.rate:,.0f}",
            f"{result.rate / copy.rate:.2f}",
            f"{result.median_rate:,.0f}",
            f"{result.median_rate / copy.median_rate:.2f}",
        )
    console.print(table)
    console.print(
        "Best runs are compared (seconds, samples/s, ratio); the medians show how much the "
        "machine's disk and PostgreSQL's WAL timing moved the runs."
    )
    return ingest.rate, copy.rate
