"""The Huami session through unmodified bleak against Mi Bands simulated in the fake BlueZ.

The handshake's writes go out as BlueZ ``WriteValue`` calls and the band's answers come back as
``PropertiesChanged`` notifications, the same D-Bus traffic as with bluetoothd and a real band.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from collector.link import (
    AdvertisementBoard,
    BackoffCurve,
    BleakClientFactory,
    BleakScannerSource,
    DeviceLink,
    ErrorClass,
    HuamiSession,
    LinkConfig,
    LinkRetryPolicy,
    LinkState,
)
from collector.profiles.huami import (
    HR_START_COMMANDS,
    MI_BAND_2_AUTH_FLAGS,
    MI_BAND_3_AUTH_FLAGS,
    parse_realtime_steps,
)
from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import HEART_RATE_MEASUREMENT, mi_band
from tests.collector.link.fake_miband import (
    AUTH,
    HR_CONTROL_POINT,
    KEY,
    REALTIME_STEPS,
    MiBandFirmware,
)

CONFIG = LinkConfig(
    advertisement_wait_s=2.0,
    connect_timeout_s=10.0,
    auth_timeout_s=5.0,
    subscribe_timeout_s=5.0,
    silence_timeout_s=2.0,
    disconnect_timeout_s=5.0,
)
POLICY = LinkRetryPolicy(curves={c: BackoffCurve(base_s=0.05, cap_s=0.2) for c in ErrorClass})
# Ten times a real band's pace, like the rest of the fake BlueZ: ping every 0.2 s; the simulated
# band ends continuous heart rate 0.5 s after the last ping.
KEEPALIVE_S = 0.2
HR_TIMEOUT_S = 0.5
MI_BAND_2 = mi_band(address="C0:FF:EE:00:00:04", name="MI Band 2", hr_timeout_s=HR_TIMEOUT_S)
MI_BAND_3 = mi_band(address="C0:FF:EE:00:00:05", name="Mi Band 3")


async def until(predicate: Callable[[], bool], *, limit_s: float = 20.0) -> None:
    async with asyncio.timeout(limit_s):
        while not predicate():  # noqa: ASYNC110 - polls plain attributes
            await asyncio.sleep(0.01)


def firmware(bluez: FakeBlueZ, address: str) -> MiBandFirmware:
    current = bluez.peripherals[address].firmware
    assert isinstance(current, MiBandFirmware)
    return current


@pytest.fixture
async def board(bluez: FakeBlueZ) -> AsyncIterator[AdvertisementBoard]:
    board = AdvertisementBoard()
    scanner = BleakScannerSource(on_advertisement=board.offer)
    await scanner.start()
    try:
        yield board
    finally:
        await scanner.stop()


def link_to(
    board: AdvertisementBoard,
    address: str,
    *,
    key: bytes = KEY,
    session: HuamiSession | None = None,
) -> DeviceLink:
    return DeviceLink(
        address=address,
        name=address,
        advertisements=board,
        client_factory=BleakClientFactory(),
        notify_uuids=[HEART_RATE_MEASUREMENT],
        config=CONFIG,
        policy=POLICY,
        rng=random.Random(5),
        session=session or HuamiSession(key=key, keepalive_interval_s=KEEPALIVE_S),
    )


async def test_bleak_authenticates_streams_keeps_heart_rate_alive_and_re_authenticates(
    bluez: FakeBlueZ, board: AdvertisementBoard
) -> None:
    band = bluez.add(MI_BAND_2)
    link = link_to(board, MI_BAND_2.address)
    task = asyncio.create_task(link.run())
    try:
        await until(lambda: link.state is LinkState.STREAMING)
        first = firmware(bluez, MI_BAND_2.address)
        assert first.authenticated
        assert first.auth_flags_seen == [MI_BAND_2_AUTH_FLAGS, MI_BAND_2_AUTH_FLAGS]
        # Heart rate outlives the band's own timeout several times over: the pings arrive.
        await until(lambda: band.ticks.get(HEART_RATE_MEASUREMENT, 0) >= 30)
        assert first.pings >= 3
        assert tuple(first.hr_commands[: len(HR_START_COMMANDS)]) == HR_START_COMMANDS
        assert [uuid for uuid, _ in band.writes[:2]] == [AUTH, AUTH]
        assert {uuid for uuid, _ in band.writes[2:]} == {HR_CONTROL_POINT}

        items = [link.queue.get_nowait() for _ in range(link.queue.qsize())]
        steps = [
            parse_realtime_steps(p).steps_today for _, uuid, p in items if uuid == REALTIME_STEPS
        ]
        bpm = [p[1] for _, uuid, p in items if uuid == HEART_RATE_MEASUREMENT]
        assert steps[0] == 1000  # the read right after subscribing
        assert steps[1:] == sorted(steps[1:])
        assert steps[-1] > 1000
        assert set(bpm) == {60, 61, 62, 63, 64}

        # A new connection is a new authentication.
        await bluez.drop(MI_BAND_2.address, away_s=0.3)
        await until(lambda: link.snapshot().connects == 2 and link.state is LinkState.STREAMING)
        assert len(band.firmwares) == 2
        assert firmware(bluez, MI_BAND_2.address).authenticated
    finally:
        link.stop()
        await task
    assert not band.device.connected


async def test_bleak_with_a_wrong_key_connects_once_and_parks(
    bluez: FakeBlueZ, board: AdvertisementBoard
) -> None:
    band = bluez.add(MI_BAND_3)
    link = link_to(board, MI_BAND_3.address, key=bytes(16))
    task = asyncio.create_task(link.run())
    try:
        await until(lambda: link.state is LinkState.REFUSED)
        assert not band.device.connected
        refused = firmware(bluez, MI_BAND_3.address)
        assert refused.refused
        assert refused.auth_flags_seen == [MI_BAND_3_AUTH_FLAGS, MI_BAND_3_AUTH_FLAGS]
        # The band keeps advertising; the parked link leaves it alone.
        await asyncio.sleep(0.5)
        assert band.connects == 1
        assert band.notifications == 0
    finally:
        link.stop()
        await task
    assert link.state is LinkState.STOPPED


class FirstPairing:
    """A session that writes ``NEW_KEY`` to a band holding none, counting the confirmations."""

    def __init__(self, *, tap_timeout_s: float = 3.0) -> None:
        self.recorded = 0
        self.session = HuamiSession(
            key=NEW_KEY,
            key_on_band=False,
            on_key_written=self.record,
            tap_timeout_s=tap_timeout_s,
            keepalive_interval_s=KEEPALIVE_S,
        )

    async def record(self) -> None:
        self.recorded += 1


NEW_KEY = bytes(range(0x20, 0x30))
SEND_NEW_KEY = bytes((0x01, MI_BAND_2_AUTH_FLAGS)) + NEW_KEY


async def test_first_pairing_writes_the_key_waits_for_the_tap_and_streams_at_once(
    bluez: FakeBlueZ, board: AdvertisementBoard, caplog: pytest.LogCaptureFixture
) -> None:
    spec = mi_band(address="C0:FF:EE:00:00:06", name="MI Band 2", key=None, tap_delay_s=0.3)
    band = bluez.add(spec)
    pairing = FirstPairing()
    link = link_to(board, spec.address, session=pairing.session)
    with caplog.at_level(logging.INFO, logger="collector.link"):
        task = asyncio.create_task(link.run())
        try:
            await until(lambda: link.state is LinkState.CONFIRMING)
            assert pairing.recorded == 0
            await until(lambda: link.state is LinkState.STREAMING)
            first = firmware(bluez, spec.address)
            assert first.keys_received == [NEW_KEY]
            assert first.memory.key == NEW_KEY
            assert first.authenticated
            # Key, then the random number and its encryption, all in the one connection.
            auth_writes = [value for uuid, value in band.writes if uuid == AUTH]
            assert auth_writes[0] == SEND_NEW_KEY
            assert auth_writes[1] == bytes((0x02, MI_BAND_2_AUTH_FLAGS))
            assert auth_writes[2][:2] == bytes((0x03, MI_BAND_2_AUTH_FLAGS))
            assert len(auth_writes) == 3
            assert band.connects == 1
            assert pairing.recorded == 1
            assert pairing.session.key_on_band
            assert pairing.session.confirmation_s == 0.0

            await until(lambda: band.ticks.get(HEART_RATE_MEASUREMENT, 0) >= 5)
            await until(lambda: band.ticks.get(REALTIME_STEPS, 0) >= 5)
            items = [link.queue.get_nowait() for _ in range(link.queue.qsize())]
            steps = [
                parse_realtime_steps(p).steps_today
                for _, uuid, p in items
                if uuid == REALTIME_STEPS
            ]
            bpm = [p[1] for _, uuid, p in items if uuid == HEART_RATE_MEASUREMENT]
            assert steps[0] == 1000
            assert steps[-1] > 1000
            assert bpm
            assert set(bpm) <= {60, 61, 62, 63, 64}

            # The next connection authenticates with the key the band now holds, no tap.
            await bluez.drop(spec.address, away_s=0.3)
            await until(lambda: link.snapshot().connects == 2 and link.state is LinkState.STREAMING)
            second = firmware(bluez, spec.address)
            assert second is not first
            assert second.keys_received == []
            assert second.authenticated
            assert [v for u, v in band.writes if u == AUTH].count(SEND_NEW_KEY) == 1
            assert pairing.recorded == 1
        finally:
            link.stop()
            await task
    messages = [r.getMessage() for r in caplog.records]
    assert sum("tap the band to confirm pairing" in m for m in messages) == 1
    assert any("pairing confirmed" in m for m in messages)
    assert not any(NEW_KEY.hex() in m for m in messages)


@pytest.mark.parametrize(
    ("tap", "message"),
    [
        ({"accepts_key": False}, "refused the new auth key (step 0x01, status 0x04)"),
        ({"tap_delay_s": None}, "the band was not tapped within 0.5 s to confirm pairing"),
    ],
    ids=["refused", "no-tap"],
)
async def test_a_key_the_band_does_not_take_parks_the_link_and_stays_unwritten(
    bluez: FakeBlueZ,
    board: AdvertisementBoard,
    caplog: pytest.LogCaptureFixture,
    tap: dict[str, Any],
    message: str,
) -> None:
    spec = mi_band(address="C0:FF:EE:00:00:07", name="Mi Band 3", key=None, **tap)
    band = bluez.add(spec)
    pairing = FirstPairing(tap_timeout_s=0.5)
    link = link_to(board, spec.address, session=pairing.session)
    with caplog.at_level(logging.INFO, logger="collector.link"):
        task = asyncio.create_task(link.run())
        try:
            await until(lambda: link.state is LinkState.REFUSED)
            await asyncio.sleep(0.3)  # the band keeps advertising; the parked link leaves it
        finally:
            link.stop()
            await task
    assert band.connects == 1
    assert band.notifications == 0
    [only] = band.firmwares
    assert isinstance(only, MiBandFirmware)
    assert only.keys_received == [NEW_KEY]
    assert only.memory.key is None
    assert [value for uuid, value in band.writes if uuid == AUTH] == [
        bytes((0x01, MI_BAND_3_AUTH_FLAGS)) + NEW_KEY
    ]
    assert not pairing.session.key_on_band
    assert pairing.recorded == 0
    assert message in (link.snapshot().last_error or "")
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert message in error
    assert "[credentials]" in error
    assert "--huami-new-key" in error
    assert "tap the band when it vibrates" in error
