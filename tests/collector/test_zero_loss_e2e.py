"""Zero loss from the outbox to PostgreSQL while the uploader is killed and the service restarts.

A seeded history of heart rate, steps, walking cadence and bike samples goes into a real outbox.
The uploader (``tests.collector.e2e.upload_driver``: the real :class:`collector.upload.Uploader`
over the real :class:`collector.outbox.Outbox`) runs as a subprocess against a real ``rehab
serve``; it is SIGKILLed at seeded random points many times and restarted, and the service itself
is killed and started again while a batch is in flight. Afterwards the database must hold exactly
the seeded samples: none lost, none twice, none altered.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from collector.outbox import Outbox
from collector.wire import BikeSample, CadenceSample, HeartRateSample, Sample, StepsSample
from tests.collector.e2e.clinic import Enrolment, as_row, enrol_hub, stored_rows
from tests.collector.e2e.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

SEED = 20260510
KILLS = 15  # SIGKILLs of the uploader before it may finish
SERVICE_KILL_ROUND = 4  # in this round the service is SIGKILLed mid-upload and started again
SERVICE_STOP_ROUND = 10  # in this round it is stopped with SIGTERM and started again
BATCH_SAMPLES = 64  # small batches: many batch boundaries for the kills to land on
T0_S = 1_778_400_000  # 2026-05-10T08:00:00Z, a fixed past morning
LINE_LIMIT_S = 30.0  # longest wait for the uploader's next line (a service restart included)


def seeded_history(seed: int) -> list[Sample]:
    """Three hours of one patient's samples, every value drawn from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    samples: list[Sample] = []
    hr_ms = rng.integers(0, 1000, size=3 * 3600)
    bpm = rng.integers(55, 140, size=3 * 3600)
    samples += [
        HeartRateSample(t_s=T0_S + i + int(hr_ms[i]) / 1000, bpm=int(bpm[i]))
        for i in range(3 * 3600)
    ]
    steps = rng.integers(0, 130, size=180)
    samples += [
        StepsSample(t_s=T0_S + 60 * (i + 1), steps=int(steps[i]), interval_s=60) for i in range(180)
    ]
    spm = rng.integers(80, 131, size=600)
    samples += [
        CadenceSample(t_s=T0_S + 3600 + i + 0.5, spm=float(spm[i]), running=bool(spm[i] > 125))
        for i in range(600)
    ]
    rpm = rng.integers(50, 80, size=1200)
    power = rng.integers(20, 120, size=1200)
    samples += [
        BikeSample(
            t_s=T0_S + 7200 + i + 0.25,
            rpm=float(rpm[i]),
            power_w=None if i % 7 == 0 else int(power[i]),
        )
        for i in range(1200)
    ]
    # The outbox holds them in collection order, so batches mix the kinds.
    return sorted(samples, key=lambda s: s.t_s)


@pytest.fixture
async def service(db_url: str, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    process = ServiceProcess(db_url=db_url, log_path=tmp_path / "serve.log")
    await asyncio.to_thread(process.start)
    try:
        yield process
    finally:
        if process.running:
            await asyncio.to_thread(process.stop)


class Driver:
    """One run of the upload driver subprocess."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.acks = 0
        self.finished = False

    @classmethod
    async def start(cls, *, outbox: Path, server_url: str, token: str) -> Driver:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.collector.e2e.upload_driver",
            "--outbox",
            str(outbox),
            "--server",
            server_url,
            "--token",
            token,
            "--max-samples",
            str(BATCH_SAMPLES),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    async def wait_acks(self, n: int) -> None:
        """Read lines until ``n`` more batches were acknowledged (or the driver finished)."""
        assert self.process.stdout is not None
        target = self.acks + n
        while self.acks < target and not self.finished:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout=LINE_LIMIT_S)
            if line.startswith(b"acked "):
                self.acks += 1
            elif line.startswith(b"done ") or not line:
                self.finished = True

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


async def test_sigkilled_uploader_and_restarted_service_lose_and_duplicate_nothing(
    db_url: str, service: ServiceProcess, tmp_path: Path
) -> None:
    history = seeded_history(SEED)
    expected = Counter(as_row(s) for s in history)
    assert len(expected) == len(history)  # every (kind, t) once, so the count is exact
    outbox_path = tmp_path / "hub" / "outbox.sqlite3"
    with Outbox(outbox_path) as outbox:
        for start in range(0, len(history), 500):  # the hub appends in chunks as it decodes
            outbox.append(history[start : start + 500])
    hub: Enrolment = await enrol_hub(db_url)
    rng = random.Random(SEED)  # seeded kill points

    kills_with_formed_batch = 0
    for round_no in range(KILLS):
        driver = await Driver.start(outbox=outbox_path, server_url=service.url, token=hub.token)
        await driver.wait_acks(rng.randint(1, 4))
        if round_no == SERVICE_KILL_ROUND:
            # A batch is on its way: the service dies, the uploader retries until it is back.
            await asyncio.sleep(rng.uniform(0.0, 0.01))
            await asyncio.to_thread(service.kill)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(service.start)
            await driver.wait_acks(2)
        elif round_no == SERVICE_STOP_ROUND:
            await asyncio.to_thread(service.stop)
            await asyncio.to_thread(service.start)
            await driver.wait_acks(2)
        await asyncio.sleep(rng.uniform(0.0, 0.02))
        await driver.kill()
        assert not driver.finished, "the outbox drained before every planned kill had happened"
        with Outbox(outbox_path) as outbox:
            if outbox.status().pending_batch_id is not None:
                kills_with_formed_batch += 1

    final = await Driver.start(outbox=outbox_path, server_url=service.url, token=hub.token)
    await final.wait_acks(len(history))
    assert final.finished
    assert await asyncio.wait_for(final.process.wait(), timeout=LINE_LIMIT_S) == 0

    stored = await stored_rows(db_url, hub.device_id)
    missing = expected - stored
    extra = stored - expected
    assert not missing, f"{sum(missing.values())} samples lost, e.g. {list(missing)[:3]}"
    assert not extra, f"{sum(extra.values())} unexpected rows, e.g. {list(extra)[:3]}"
    assert stored == expected
    with Outbox(outbox_path) as outbox:
        left = outbox.status()
    assert left.depth_samples == 0
    assert left.quarantined_samples == 0
    assert left.acked_samples == len(history)
    assert service.starts == 3
    # The kills fell inside batches (formed, maybe sent, not yet acknowledged), not only between.
    assert kills_with_formed_batch >= 1
