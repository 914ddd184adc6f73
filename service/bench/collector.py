"""``rehab bench collector``: the home hub's decode and upload rates, and a collector's footprint.

Three measurements, each next to a baseline taken in the same run:

- notifications parsed per second through the hub's path (:class:`NotificationDecoder`: profile
  parsers, counters, wire ranges, sensor numbers) on a synthetic 1 Hz mix of heart
  rate with RR intervals, InfiniTime steps, FTMS indoor bike, CSC crank and RSC walking data,
  next to a bare ``int.from_bytes`` over the same payloads;
- outbox → server samples per second: the real :class:`Outbox` and :class:`Uploader` draining
  heart-rate samples into ``rehab serve`` on a scratch database, next to plain sequential POSTs
  of the same, pre-encoded bodies;
- CPU (% of one core) and resident memory of a running collector process, read from
  ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` (``--pid``).
"""

from __future__ import annotations

import asyncio
import os
import struct
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from collector.hub import NotificationDecoder
from collector.link import ClockAnchor, Notification
from collector.outbox import Outbox
from collector.profiles import csc, ftms, heart_rate, infinitime, rsc
from collector.upload import Uploader
from collector.wire import assemble_batch, encode_heart_rate_series
from service.bench.scratch import bench_patient, scratch_database, serve_in_thread
from service.settings import Settings

__all__ = ["Footprint", "measure_process", "run", "run_footprint"]

_NS_PER_S = 1_000_000_000  # nanoseconds per second (SI)
_CONSUME_BATCH = 1000  # notifications per decode call, as the hub's consumer (collector.hub._run)
_T0_S = 1_777_593_600  # 2026-05-01T00:00:00Z, an arbitrary fixed start so that runs compare
# Batch limits of a live hub: CollectorSettings.batch_max_samples / batch_max_bytes defaults.
_BATCH_SAMPLES = 10_000
_BATCH_BYTES = 4 * 1024 * 1024
_HTTP_TIMEOUT_S = 120.0  # a 10,000-sample batch on a loaded machine; tunable default
_KIB = 1024  # /proc/<pid>/status reports kB (kibibytes, proc(5))
_MIB = 1024 * 1024


@dataclass(frozen=True)
class _Rate:
    label: str
    items: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.items / self.seconds


def _table(title: str, unit: str, rows: list[_Rate], baseline: _Rate) -> Table:
    table = Table(title=title)
    table.add_column("path")
    table.add_column("seconds", justify="right")
    table.add_column(f"{unit}/s", justify="right")
    table.add_column("ratio to baseline", justify="right")
    for rate in [*rows, baseline]:
        table.add_row(
            rate.label,
            f"{rate.seconds:.2f}",
            f"{rate.per_s:,.0f}",
            f"{rate.per_s / baseline.per_s:.3f}",
        )
    return table


# -- (a) decoding --------------------------------------------------------------------------------


def synthetic_notifications(n_notifications: int, *, seed: int = 0) -> list[Notification]:
    """A 1 Hz mix of five characteristics, as a link queue holds them: (t_ns, uuid, payload)."""
    rng = np.random.default_rng(seed)
    bpm = rng.integers(55, 140, size=n_notifications).tolist()
    rpm = rng.integers(50, 90, size=n_notifications).tolist()
    out: list[Notification] = []
    crank_revs = 0
    crank_time = 0  # 1/1024 s (CSC 0x2A5B "Last Crank Event Time")
    t_ns = time.monotonic_ns()
    for i in range(n_notifications):
        kind = i % 5
        t_ns += _NS_PER_S // 5  # five characteristics each notifying once a second
        if kind == 0:  # HRS 0x2A37: flags 0x10 (RR present), uint8 bpm, one RR in 1/1024 s
            rr = round(60 / bpm[i] * 1024)
            payload = struct.pack("<BBH", 0x10, bpm[i], rr)
            uuid_ = heart_rate.HEART_RATE_MEASUREMENT_UUID
        elif kind == 1:  # InfiniTime step count: uint32 LE, about one step a second
            payload = struct.pack("<I", 1000 + i // 5)
            uuid_ = infinitime.INFINITIME_STEP_COUNT_UUID
        elif kind == 2:  # FTMS 0x2AD2 flags 0x0244: speed, cadence (0.5 rpm), power, heart rate
            payload = struct.pack("<HHHhB", 0x0244, 2460, 2 * rpm[i], 80, bpm[i])
            uuid_ = ftms.INDOOR_BIKE_DATA_UUID
        elif kind == 3:  # CSC 0x2A5B flags 0x02: crank revolutions and event time
            crank_revs = (crank_revs + 1) & 0xFFFF
            crank_time = (crank_time + round(60 / rpm[i] * 1024)) & 0xFFFF
            payload = struct.pack("<BHH", 0x02, crank_revs, crank_time)
            uuid_ = csc.CSC_MEASUREMENT_UUID
        else:  # RSC 0x2A53 flags 0x00: speed 1/256 m/s, cadence per minute
            payload = struct.pack("<BHB", 0x00, 341, 100 + i % 20)
            uuid_ = rsc.RSC_MEASUREMENT_UUID
        out.append((t_ns, uuid_, payload))
    return out


def _time_decode(notifications: list[Notification]) -> tuple[float, int]:
    decoder = NotificationDecoder(anchor=ClockAnchor.now(), sensor=1)
    samples = 0
    started = time.perf_counter()
    for start in range(0, len(notifications), _CONSUME_BATCH):
        chunk = notifications[start : start + _CONSUME_BATCH]
        samples += sum(len(decoder.decode(item)) for item in chunk)
    return time.perf_counter() - started, samples


def _time_baseline(notifications: list[Notification]) -> float:
    total = 0
    started = time.perf_counter()
    for _, _, payload in notifications:
        total += int.from_bytes(payload[1:2], "little")
    elapsed = time.perf_counter() - started
    if total < 0:  # keeps the loop's result alive; never true
        raise AssertionError(total)
    return elapsed


def run_decode(console: Console, *, notifications: int, seed: int = 0) -> tuple[float, float]:
    """Time the hub's decoder; print a table; return (decoded/s, baseline/s)."""
    stream = synthetic_notifications(notifications, seed=seed)
    decode_s, samples = _time_decode(stream)
    baseline_s = _time_baseline(stream)
    decoded = _Rate(f"hub decoder ({samples:,} samples out)", notifications, decode_s)
    baseline = _Rate(
        "bare int.from_bytes over the same payloads (baseline)", notifications, baseline_s
    )
    console.print(
        _table(
            f"decode: {notifications:,} notifications (HR+RR, steps, FTMS bike, CSC, RSC)",
            "notifications",
            [decoded],
            baseline,
        )
    )
    return decoded.per_s, baseline.per_s


# -- (b) outbox → server -----------------------------------------------------------------------


def _encoded(n_samples: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    t_s = _T0_S + np.arange(n_samples, dtype=np.float64)
    return encode_heart_rate_series(t_s, rng.integers(55, 140, size=n_samples))


async def _drain_outbox(base_url: str, token: str, encoded: list[bytes], directory: Path) -> float:
    t_s = [_T0_S + float(i) for i in range(len(encoded))]
    with Outbox(directory / "outbox.sqlite3") as outbox:
        outbox.append_encoded(t_s=t_s, bodies=encoded)
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_S) as client:
            uploader = Uploader(
                outbox=outbox,
                client=client,
                server_url=base_url,
                device_token=token,
                max_samples=_BATCH_SAMPLES,
                max_bytes=_BATCH_BYTES,
                max_age_s=0.0,
            )
            started = time.perf_counter()
            totals = await uploader.drain()
            elapsed = time.perf_counter() - started
    if totals.accepted != len(encoded):
        raise RuntimeError(f"the service accepted {totals.accepted} of {len(encoded)} samples")
    return elapsed


async def _post_bodies(base_url: str, token: str, encoded: list[bytes]) -> float:
    bodies = [
        assemble_batch(str(uuid.uuid4()), encoded[i : i + _BATCH_SAMPLES])
        for i in range(0, len(encoded), _BATCH_SAMPLES)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, timeout=_HTTP_TIMEOUT_S) as client:
        started = time.perf_counter()
        for body in bodies:
            response = await client.post("/v1/ingest", content=body, headers=headers)
            response.raise_for_status()
        return time.perf_counter() - started


def run_upload(
    console: Console, *, server_url: str, settings: Settings, samples: int, seed: int = 0
) -> tuple[float, float]:
    """Time outbox → server and plain POSTs in a scratch database; return both rates."""
    encoded = _encoded(samples, seed)
    with (
        scratch_database(server_url) as db_url,
        serve_in_thread(settings, db_url) as base_url,
        tempfile.TemporaryDirectory(prefix="rehab-bench-outbox-") as tmp,
    ):
        hub_token = asyncio.run(bench_patient(db_url)).device_token
        plain_token = asyncio.run(bench_patient(db_url)).device_token
        with console.status("outbox → POST /v1/ingest"):
            drain_s = asyncio.run(_drain_outbox(base_url, hub_token, encoded, Path(tmp)))
        with console.status("plain POSTs"):
            post_s = asyncio.run(_post_bodies(base_url, plain_token, encoded))
    drained = _Rate("outbox → uploader → POST /v1/ingest → ack", samples, drain_s)
    plain = _Rate("POST of the same pre-encoded bodies (baseline)", samples, post_s)
    console.print(
        _table(
            f"upload: {samples:,} heart-rate samples, batches of {_BATCH_SAMPLES:,}, one at a time",
            "samples",
            [drained],
            plain,
        )
    )
    return drained.per_s, plain.per_s


def run(
    console: Console,
    *,
    server_url: str,
    settings: Settings,
    notifications: int,
    samples: int,
    seed: int = 0,
) -> None:
    """Measurements (a) and (b)."""
    run_decode(console, notifications=notifications, seed=seed)
    run_upload(console, server_url=server_url, settings=settings, samples=samples, seed=seed)


# -- (c) footprint of a running collector ------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    """CPU and memory of one process over a measured interval."""

    pid: int
    duration_s: float
    cpu_percent: float  # of one core
    rss_mean_mib: float
    rss_max_mib: float
    rss_peak_mib: float  # VmHWM: the highest resident size since the process started


def _cpu_s(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    # proc(5): fields after "(comm)"; utime and stime are fields 14 and 15, in clock ticks.
    fields = text[text.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {key}")


def measure_process(pid: int, *, duration_s: float, interval_s: float = 1.0) -> Footprint:
    """CPU % of one core and resident memory of ``pid`` over ``duration_s`` seconds."""
    cpu_before = _cpu_s(pid)
    started = time.monotonic()
    rss: list[int] = []
    while (elapsed := time.monotonic() - started) < duration_s:
        rss.append(_status_kib(pid, "VmRSS"))
        time.sleep(min(interval_s, max(0.0, duration_s - elapsed)))
    cpu_after = _cpu_s(pid)
    wall_s = time.monotonic() - started
    rss.append(_status_kib(pid, "VmRSS"))
    return Footprint(
        pid=pid,
        duration_s=wall_s,
        cpu_percent=100.0 * (cpu_after - cpu_before) / wall_s,
        rss_mean_mib=sum(rss) / len(rss) * _KIB / _MIB,
        rss_max_mib=max(rss) * _KIB / _MIB,
        rss_peak_mib=_status_kib(pid, "VmHWM") * _KIB / _MIB,
    )


def print_footprint(console: Console, footprint: Footprint, *, what: str) -> None:
    """Print a footprint as a table."""
    table = Table(
        title=f"footprint of {what} (pid {footprint.pid}) over {footprint.duration_s:.0f} s"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("CPU, % of one core", f"{footprint.cpu_percent:.2f}")
    table.add_row("resident memory, mean (MiB)", f"{footprint.rss_mean_mib:.1f}")
    table.add_row("resident memory, max sampled (MiB)", f"{footprint.rss_max_mib:.1f}")
    table.add_row("resident memory, peak since start (MiB)", f"{footprint.rss_peak_mib:.1f}")
    console.print(table)


def run_footprint(console: Console, *, pid: int, duration_s: float) -> Footprint:
    """Measure (c) on a running ``rehab collect run`` and print it."""
    if not Path(f"/proc/{pid}").exists():
        raise RuntimeError(f"no process {pid}")
    with console.status(f"measuring pid {pid} for {duration_s:.0f} s"):
        footprint = measure_process(pid, duration_s=duration_s)
    print_footprint(console, footprint, what="the collector")
    return footprint
