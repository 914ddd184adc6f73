"""Unmodified bleak and bleak-retry-connector against the fake BlueZ on a private D-Bus."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from bleak import BleakScanner

from collector.link import (
    AdvertisementBoard,
    BackoffCurve,
    BleakClientFactory,
    BleakScannerSource,
    DeviceLink,
    ErrorClass,
    LinkConfig,
    LinkRetryPolicy,
    LinkState,
)
from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import (
    BAND,
    BATTERY_LEVEL,
    BIKE,
    HEART_RATE_MEASUREMENT,
    INDOOR_BIKE_DATA,
    INFINITIME_STEP_COUNT,
    WATCH,
)

NOTIFY = [HEART_RATE_MEASUREMENT, INFINITIME_STEP_COUNT, INDOOR_BIKE_DATA, BATTERY_LEVEL]
CONFIG = LinkConfig(
    advertisement_wait_s=2.0,
    connect_timeout_s=10.0,
    subscribe_timeout_s=5.0,
    silence_timeout_s=1.0,
    disconnect_timeout_s=5.0,
)
POLICY = LinkRetryPolicy(curves={c: BackoffCurve(base_s=0.05, cap_s=0.2) for c in ErrorClass})


async def until(predicate: Callable[[], bool], *, limit_s: float = 20.0) -> None:
    async with asyncio.timeout(limit_s):
        while not predicate():  # noqa: ASYNC110 - polls plain attributes
            await asyncio.sleep(0.01)


async def test_scanner_sees_every_simulated_device(bluez: FakeBlueZ) -> None:
    for spec in (BAND, WATCH, BIKE):
        bluez.add(spec)
    found = await BleakScanner.discover(timeout=0.5, return_adv=True)
    by_address = {device.address: (device, adv) for device, adv in found.values()}
    assert set(by_address) >= {BAND.address, WATCH.address, BIKE.address}
    device, adv = by_address[BIKE.address]
    assert device.name == "FTMS-Bike"
    assert adv.rssi < 0
    assert "00001826-0000-1000-8000-00805f9b34fb" in adv.service_uuids


async def test_links_stream_from_three_devices_and_resume_after_a_drop(bluez: FakeBlueZ) -> None:
    for spec in (BAND, WATCH, BIKE):
        bluez.add(spec)
    bluez.fail_next_connects(BIKE.address, "le-connection-abort-by-local")
    board = AdvertisementBoard()
    scanner = BleakScannerSource(on_advertisement=board.offer)
    await scanner.start()
    links = {
        spec.address: DeviceLink(
            address=spec.address,
            name=spec.name,
            advertisements=board,
            client_factory=BleakClientFactory(),
            notify_uuids=NOTIFY,
            read_uuids=[BATTERY_LEVEL],
            config=CONFIG,
            policy=POLICY,
            rng=random.Random(1),
        )
        for spec in (BAND, WATCH, BIKE)
    }
    tasks = [asyncio.create_task(link.run()) for link in links.values()]
    try:
        await until(lambda: all(link.snapshot().notifications >= 5 for link in links.values()))
        watch = links[WATCH.address].snapshot()
        assert set(watch.subscribed) == {
            HEART_RATE_MEASUREMENT,
            INFINITIME_STEP_COUNT,
            BATTERY_LEVEL,
        }
        assert links[BIKE.address].snapshot().subscribed == (INDOOR_BIKE_DATA,)
        queued = [links[BAND.address].queue.get_nowait() for _ in range(3)]
        assert queued[0][1:] == (BATTERY_LEVEL, b"\x57")
        assert queued[1][1] == HEART_RATE_MEASUREMENT
        assert queued[1][2][0] == 0x00
        assert 70 <= queued[1][2][1] <= 79

        band = links[BAND.address]
        before = band.snapshot().notifications
        await bluez.drop(BAND.address, away_s=0.3)
        await until(lambda: band.snapshot().connects == 2 and band.state is LinkState.STREAMING)
        await until(lambda: band.snapshot().notifications >= before + 5)
        assert "dropped the link" in (band.snapshot().last_error or "")
        assert bluez.peripherals[BAND.address].connects == 2

        # A silent link is torn down by the watchdog and rebuilt.
        watch_link = links[WATCH.address]
        bluez.silence(WATCH.address)
        await until(lambda: "no notification" in (watch_link.snapshot().last_error or ""))
        bluez.silence(WATCH.address, silent=False)
        await until(lambda: watch_link.snapshot().connects >= 2)
        await until(lambda: watch_link.state is LinkState.STREAMING)
    finally:
        for link in links.values():
            link.stop()
        await asyncio.gather(*tasks)
        await scanner.stop()
    assert all(not p.device.connected for p in bluez.peripherals.values())
