"""``rehab collect run`` as a real process: bleak → fake BlueZ → outbox → a real ``rehab serve``.

The fake BlueZ serves a heart-rate band, an InfiniTime watch and an FTMS bike on a private bus;
the collector process finds it through ``DBUS_SYSTEM_BUS_ADDRESS``. The hub is enrolled and
paired with the real commands (``rehab patient add``, ``rehab device add``, ``rehab collect
pair``) and uploads to ``rehab serve`` on a test database. The simulated devices number their
notifications, so the test knows exactly what each one sent: the rows in PostgreSQL must match
that, before and after the band drops its link and comes back.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

import orjson
import pytest

from collector.hub import read_status
from tests.collector.bluez.collect_process import collect, sent, until
from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import (
    BAND,
    BIKE,
    INFINITIME_STEP_COUNT,
    WATCH,
    full,
)
from tests.collector.e2e.clinic import Enrolment, Row, enrol_hub_with_cli, stored_rows
from tests.collector.e2e.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

HEART_RATE_MEASUREMENT = full("2a37")
INDOOR_BIKE_DATA = full("2ad2")
DEVICES = (BAND, WATCH, BIKE)


def expected_rows(bluez: FakeBlueZ) -> dict[str, list[Row]]:
    """What the service should hold, from the simulated devices' own notification counts.

    Times are the collector's, so they are left out: each device's values in time order.
    Formulas are those of ``simulated_devices``: band 70 + tick % 10 bpm, watch 90 + tick % 5 bpm,
    watch steps 1000 + tick // 4 (the first notification only sets the counter), bike cadence
    60 + tick % 5 rpm at 80 W.
    """
    band = sent(bluez, BAND.address, HEART_RATE_MEASUREMENT)
    watch = sent(bluez, WATCH.address, HEART_RATE_MEASUREMENT)
    steps = sent(bluez, WATCH.address, INFINITIME_STEP_COUNT)
    bike = sent(bluez, BIKE.address, INDOOR_BIKE_DATA)
    return {
        "band_bpm": [(70 + k % 10,) for k in range(band)],
        "watch_bpm": [(90 + k % 5,) for k in range(watch)],
        "steps_total": [(max(0, steps - 1) // 4,)],
        "bike": [(60.0 + k % 5, 80) for k in range(bike)],
    }


async def actual_rows(db_url: str, hub: Enrolment) -> dict[str, list[Row]]:
    """The stored rows in the shape of :func:`expected_rows`."""
    rows = sorted((await stored_rows(db_url, hub.device_id)).elements(), key=lambda r: r[1])
    kinds = Counter(r[0] for r in rows)
    assert set(kinds) <= {"heart_rate", "steps", "bike"}, kinds
    steps = [r for r in rows if r[0] == "steps"]
    assert all(n >= 1 and interval >= 1 for _, _, n, interval in steps)
    return {
        # The band notifies 70–79 bpm, the watch 90–94 (simulated_devices).
        "band_bpm": [(r[2],) for r in rows if r[0] == "heart_rate" and 70 <= r[2] <= 79],
        "watch_bpm": [(r[2],) for r in rows if r[0] == "heart_rate" and 90 <= r[2] <= 94],
        "steps_total": [(sum(r[2] for r in steps),)],
        "bike": [(r[2], r[3]) for r in rows if r[0] == "bike"],
    }


async def settle_and_compare(bluez: FakeBlueZ, db_url: str, hub: Enrolment, what: str) -> None:
    """Silence every device, wait for the service to hold all they sent, compare exactly."""
    for spec in DEVICES:
        bluez.silence(spec.address)
    expected = expected_rows(bluez)
    assert all(expected[k] for k in ("band_bpm", "watch_bpm", "bike")), expected
    last: dict[str, list[Row]] = {}

    async def delivered() -> bool:
        last.update(await actual_rows(db_url, hub))
        return last == expected

    try:
        await until(delivered, limit_s=20, what=f"{what}: every notification in PostgreSQL")
    except AssertionError:
        differences = {k: (len(expected[k]), len(last.get(k, []))) for k in expected}
        raise AssertionError(f"{what}: (sent, stored) per stream {differences}") from None
    for spec in DEVICES:
        bluez.silence(spec.address, silent=False)


async def test_collect_run_delivers_three_devices_to_the_service_and_resumes_after_a_drop(
    bluez: FakeBlueZ, service: ServiceProcess, db_url: str, tmp_path: Path
) -> None:
    assert "DBUS_SYSTEM_BUS_ADDRESS" in os.environ  # the private bus, inherited by the collector
    for spec in DEVICES:
        bluez.add(spec)
    hub = await enrol_hub_with_cli(db_url)
    state_dir = tmp_path / "hub"
    pair = await collect(
        state_dir,
        "pair",
        "--server",
        service.url,
        "--token",
        hub.token,
        *(arg for s in DEVICES for arg in ("--device", f"{s.address}={s.name}")),
    )
    pair_out = (await pair.communicate())[0].decode(errors="replace")
    assert pair.returncode == 0, pair_out
    assert "Paired 3 device(s)" in pair_out

    process = await collect(state_dir, "run")
    try:
        await until(
            lambda: all(
                sent(bluez, s.address, uuid) >= 5
                for s, uuid in (
                    (BAND, HEART_RATE_MEASUREMENT),
                    (WATCH, INFINITIME_STEP_COUNT),
                    (BIKE, INDOOR_BIKE_DATA),
                )
            ),
            limit_s=30,
            what="all three devices to connect and notify",
        )
        await settle_and_compare(bluez, db_url, hub, "before the drop")

        band_before = sent(bluez, BAND.address, HEART_RATE_MEASUREMENT)
        await bluez.drop(BAND.address, away_s=0.5)
        await until(
            lambda: (
                bluez.peripherals[BAND.address].connects >= 2
                and sent(bluez, BAND.address, HEART_RATE_MEASUREMENT) >= band_before + 5
            ),
            limit_s=30,
            what="the band to reconnect and notify again",
        )
        await settle_and_compare(bluez, db_url, hub, "after the drop")

        # The running hub rewrites its status file every few seconds.
        await until(
            lambda: (
                (status := read_status(state_dir)) is not None
                and len(status.devices) == 3
                and all(
                    d.battery_percent is not None
                    for d in status.devices
                    if d.address != BIKE.address
                )
            ),
            limit_s=20,
            what="the status file to show batteries",
        )
        status_process = await collect(state_dir, "status", "--json")
        report = orjson.loads((await status_process.communicate())[0])
        assert report["running"] is True
        assert report["server_url"] == service.url
        by_address = {d["address"]: d for d in report["devices"]}
        assert by_address[BAND.address]["battery_percent"] == 0x57
        assert by_address[WATCH.address]["battery_percent"] == 0x40
        assert by_address[BIKE.address]["last_sample_s"] is not None
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0]
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "HRM-Band" in text
    assert "dropped the link" in text
    assert all(not p.device.connected for p in bluez.peripherals.values())
