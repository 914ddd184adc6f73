"""``rehab collect run`` as a real process: bleak → fake BlueZ → outbox → HTTP ingest receiver.

The fake BlueZ serves a heart-rate band, an InfiniTime watch and an FTMS bike on a private bus;
the collector process finds it through ``DBUS_SYSTEM_BUS_ADDRESS``. Samples must reach the HTTP
receiver (the collector tests' ingest server); then the band drops its link and comes back, and
collection must resume.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from collector.hub import PairedDevice, Pairing, read_status, save_pairing
from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import BAND, BIKE, WATCH
from tests.collector.conftest import DEVICE_TOKEN, FakeIngest

pytestmark = pytest.mark.e2e


def samples_of(ingest: FakeIngest) -> list[dict[str, Any]]:
    return [s for batch in ingest.stored_batches for s in batch.samples]


def band_hr(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The band notifies 70–79 bpm, the watch 90–94 (simulated_devices).
    return [s for s in samples if s["kind"] == "heart_rate" and 70 <= s["bpm"] <= 79]


async def until(predicate: Callable[[], bool], *, limit_s: float, what: str) -> None:
    try:
        async with asyncio.timeout(limit_s):
            while not predicate():  # noqa: ASYNC110 - polls the ingest server's lists
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_collect_run_delivers_three_devices_and_resumes_after_a_drop(
    bluez: FakeBlueZ, ingest: FakeIngest, tmp_path: Path
) -> None:
    for spec in (BAND, WATCH, BIKE):
        bluez.add(spec)
    state_dir = tmp_path / "hub"
    save_pairing(
        state_dir,
        Pairing(
            server_url=ingest.url,
            token=DEVICE_TOKEN,
            device_id=None,
            devices=tuple(
                PairedDevice(address=s.address, name=s.name) for s in (BAND, WATCH, BIKE)
            ),
            paired_at_s=0.0,
        ),
    )
    env = {
        **os.environ,
        "REHAB_COLLECTOR_DIR": str(state_dir),
        # Send partial batches after one second so the test sees them quickly.
        "REHAB_BATCH_MAX_AGE_S": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "collector.cli.collect",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    try:
        await until(
            lambda: (
                {s["kind"] for s in samples_of(ingest)} >= {"heart_rate", "steps", "bike"}
                and len(band_hr(samples_of(ingest))) >= 3
            ),
            limit_s=30,
            what="samples from all three devices",
        )
        samples = samples_of(ingest)
        assert any(90 <= s["bpm"] <= 94 for s in samples if s["kind"] == "heart_rate")
        bike = [s for s in samples if s["kind"] == "bike"]
        assert {s["power_w"] for s in bike} == {80}
        assert all(60 <= s["rpm"] <= 64 for s in bike)
        assert all(
            s["steps"] >= 1 and s["interval_s"] >= 1 for s in samples if s["kind"] == "steps"
        )
        assert all(b.authorization == f"Bearer {DEVICE_TOKEN}" for b in ingest.received)

        await bluez.drop(BAND.address, away_s=0.5)
        after_drop = len(band_hr(samples_of(ingest)))
        await until(
            lambda: (
                bluez.peripherals[BAND.address].connects >= 2
                and len(band_hr(samples_of(ingest))) >= after_drop + 3
            ),
            limit_s=30,
            what="the band to reconnect and deliver again",
        )
        # The running hub rewrites its status file every few seconds.
        await until(
            lambda: (
                (hub := read_status(state_dir)) is not None
                and all(
                    d.battery_percent is not None for d in hub.devices if d.address != BIKE.address
                )
                and len(hub.devices) == 3
            ),
            limit_s=20,
            what="the status file to show batteries",
        )
        status = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "collector.cli.collect",
            "status",
            "--json",
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        report = orjson.loads((await status.communicate())[0])
        assert report["running"] is True
        by_address = {d["address"]: d for d in report["devices"]}
        assert by_address[BAND.address]["battery_percent"] == 0x57
        assert by_address[WATCH.address]["battery_percent"] == 0x40
        assert by_address[BIKE.address]["last_sample_s"] is not None
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0]
    assert process.returncode == 0, output.decode(errors="replace")
    text = output.decode(errors="replace")
    assert "Traceback" not in text
    assert "HRM-Band" in text
    assert "dropped the link" in text
    assert all(not p.device.connected for p in bluez.peripherals.values())
