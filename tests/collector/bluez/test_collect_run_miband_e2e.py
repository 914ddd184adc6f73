"""``rehab collect run`` with two Mi Bands: one paired with its key, one with a wrong key.

Both bands run the band's side of the Huami handshake in the fake BlueZ, reached by the real
collector process through unmodified bleak. The band with the right key must deliver its steps
(deltas of the realtime counter) and its heart rate (started through the control point) to
PostgreSQL exactly as it sent them; the band with the wrong key must be tried once, logged once
with advice, and left alone without disturbing the other.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import orjson
import pytest

from collector.hub import read_status
from tests.collector.bluez.collect_process import collect, sent, until
from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import HEART_RATE_MEASUREMENT, mi_band
from tests.collector.e2e.clinic import Enrolment, Row, enrol_hub_with_cli, stored_rows
from tests.collector.e2e.service_process import ServiceProcess
from tests.collector.link.fake_miband import KEY, REALTIME_STEPS, MiBandFirmware

pytestmark = pytest.mark.e2e

GOOD = mi_band(address="C0:FF:EE:00:00:04", name="MI Band 2")
WRONG = mi_band(address="C0:FF:EE:00:00:05", name="Mi Band 3")
WRONG_KEY = bytes(reversed(KEY))


def expected(bluez: FakeBlueZ) -> dict[str, list[Row]]:
    """What the good band sent: 60 + tick % 5 bpm; steps 1000 + tick (the read sets 1000)."""
    beats = sent(bluez, GOOD.address, HEART_RATE_MEASUREMENT)
    steps = sent(bluez, GOOD.address, REALTIME_STEPS)
    return {
        "bpm": [(60 + k % 5,) for k in range(beats)],
        "steps_total": [(max(0, steps - 1),)],
    }


async def stored(db_url: str, hub: Enrolment) -> dict[str, list[Row]]:
    rows = sorted((await stored_rows(db_url, hub.device_id)).elements(), key=lambda r: r[1])
    assert {r[0] for r in rows} <= {"heart_rate", "steps"}
    return {
        "bpm": [(r[2],) for r in rows if r[0] == "heart_rate"],
        "steps_total": [(sum(r[2] for r in rows if r[0] == "steps"),)],
    }


async def test_collect_run_authenticates_a_mi_band_and_parks_the_one_with_a_wrong_key(
    bluez: FakeBlueZ, service: ServiceProcess, db_url: str, tmp_path: Path
) -> None:
    good, wrong = bluez.add(GOOD), bluez.add(WRONG)
    hub = await enrol_hub_with_cli(db_url)
    state_dir = tmp_path / "hub"
    pair = await collect(
        state_dir,
        "pair",
        "--server",
        service.url,
        "--token",
        hub.token,
        "--device",
        f"{GOOD.address}=Good band",
        "--device",
        f"{WRONG.address}=Wrong band",
        "--huami-key",
        f"{GOOD.address}={KEY.hex()}",
        "--huami-key",
        f"{WRONG.address}={WRONG_KEY.hex()}",
    )
    pair_out = (await pair.communicate())[0].decode(errors="replace")
    assert pair.returncode == 0, pair_out
    assert "Mi Band auth key stored for 2 device(s)" in pair_out

    process = await collect(state_dir, "run")
    try:
        await until(
            lambda: (
                sent(bluez, GOOD.address, HEART_RATE_MEASUREMENT) >= 5
                and sent(bluez, GOOD.address, REALTIME_STEPS) >= 5
            ),
            limit_s=30,
            what="the good band to authenticate and stream",
        )
        await until(
            lambda: (
                (status := read_status(state_dir)) is not None
                and {d.address: d.state for d in status.devices}.get(WRONG.address) == "refused"
            ),
            limit_s=20,
            what="the wrong-key band to show as refused",
        )
        bluez.silence(GOOD.address)
        want = expected(bluez)
        last: dict[str, list[Row]] = {}

        async def delivered() -> bool:
            last.update(await stored(db_url, hub))
            return last == want

        try:
            await until(delivered, limit_s=20, what="every notification in PostgreSQL")
        except AssertionError:
            raise AssertionError(f"sent {want['steps_total']}, stored {last}") from None
        assert want["steps_total"][0][0] >= 4

        firmware = good.firmware
        assert isinstance(firmware, MiBandFirmware)
        assert firmware.authenticated
        assert firmware.hr_continuous
        assert wrong.connects == 1
        assert wrong.notifications == 0
        [refused] = wrong.firmwares
        assert isinstance(refused, MiBandFirmware)
        assert refused.refused
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0]
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "Good band: authenticated (auth flags 0x08)" in text
    refusals = [line for line in text.splitlines() if "refused the auth key" in line]
    assert len(refusals) == 1, text
    assert "Wrong band" in refusals[0]
    assert "--huami-key" in refusals[0]
    assert KEY.hex() not in text
    assert not good.device.connected
    assert orjson.loads((state_dir / "pairing.json").read_bytes())["devices"][0]["huami_key"]


async def test_collect_run_pairs_a_factory_fresh_band_once_and_reuses_its_key(
    bluez: FakeBlueZ, service: ServiceProcess, db_url: str, tmp_path: Path
) -> None:
    spec = mi_band(address="C0:FF:EE:00:00:08", name="MI Band 2", key=None, tap_delay_s=1.0)
    band = bluez.add(spec)
    hub = await enrol_hub_with_cli(db_url)
    state_dir = tmp_path / "hub"
    pair = await collect(
        state_dir,
        "pair",
        "--server",
        service.url,
        "--token",
        hub.token,
        "--device",
        f"{spec.address}=New band",
        "--huami-new-key",
        spec.address,
    )
    pair_out = (await pair.communicate())[0].decode(errors="replace")
    assert pair.returncode == 0, pair_out
    [stored_device] = orjson.loads((state_dir / "pairing.json").read_bytes())["devices"]
    assert stored_device["huami_key_written"] is False
    key = bytes.fromhex(stored_device["huami_key"])

    outputs = []
    for run in (1, 2):
        process = await collect(state_dir, "run")
        try:
            await until(
                lambda run=run: (
                    band.connects == run and sent(bluez, spec.address, REALTIME_STEPS) >= 3
                ),
                limit_s=30,
                what=f"connection {run} to authenticate and stream",
            )
            await until(
                lambda: (
                    "huami_key_written"
                    not in orjson.loads((state_dir / "pairing.json").read_bytes())["devices"][0]
                ),
                limit_s=10,
                what="the pairing to record the key on the band",
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(process.communicate(), timeout=30))[0]
        outputs.append(output.decode(errors="replace"))
        assert process.returncode == 0, outputs[-1]
    first, second = band.firmwares
    assert isinstance(first, MiBandFirmware)
    assert isinstance(second, MiBandFirmware)
    assert first.keys_received == [key]
    assert second.keys_received == []
    assert second.authenticated
    assert second.memory.key == key
    assert "tap the band to confirm pairing" in outputs[0]
    assert "tap the band" not in outputs[1]
    assert all(key.hex() not in text and "Traceback" not in text for text in outputs)
