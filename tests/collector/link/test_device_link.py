"""The DeviceLink state machine against an injected fake client."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from bleak.exc import BleakDBusError, BleakDeviceNotFoundError

from collector.errors import ConnectAbortedError
from collector.link import (
    AdvertisementBoard,
    DeviceLink,
    ErrorClass,
    LinkConfig,
    LinkState,
    classify,
    translate_error,
)
from tests.collector.link.link_fakes import (
    ADDRESS,
    BATTERY_LEVEL,
    FAST_CONFIG,
    FAST_POLICY,
    HR_MEASUREMENT,
    RSC_MEASUREMENT,
    Advertiser,
    FakeFactory,
    Outcome,
    hr_band,
)

ABORT = BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])


async def until(predicate: Callable[[], bool], *, limit_s: float = 5.0) -> None:
    """Yield to the loop until ``predicate`` holds (a safety limit only, never asserted on)."""
    async with asyncio.timeout(limit_s):
        while not predicate():  # noqa: ASYNC110 - the predicates read plain attributes
            await asyncio.sleep(0.001)


class Harness:
    def __init__(self, script: list[Outcome], *, config: LinkConfig = FAST_CONFIG) -> None:
        self.board = AdvertisementBoard()
        self.advertiser = Advertiser(self.board)
        self.factory = FakeFactory(script)
        self.link = DeviceLink(
            address=ADDRESS.lower(),
            name="band",
            advertisements=self.board,
            client_factory=self.factory,
            notify_uuids=[HR_MEASUREMENT, RSC_MEASUREMENT, "2a19"],
            read_uuids=["2A19"],
            config=config,
            policy=FAST_POLICY,
            rng=random.Random(7),
        )
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, *, advertising: bool = True) -> None:
        self.tasks.append(asyncio.create_task(self.link.run()))
        if advertising:
            self.tasks.append(asyncio.create_task(self.advertiser.keep_advertising()))

    async def close(self) -> None:
        self.link.stop()
        for task in self.tasks[1:]:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def harness_of() -> AsyncIterator[Callable[[list[Outcome]], Awaitable[Harness]]]:
    made: list[Harness] = []

    async def make(script: list[Outcome]) -> Harness:
        harness = Harness(script)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.close()


async def test_connects_subscribes_offered_characteristics_and_queues_notifications(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    client = h.factory.clients[0]
    # RSC is wanted but not offered; battery is both notified and read once.
    assert set(client.handlers) == {HR_MEASUREMENT, BATTERY_LEVEL}
    client.notify(HR_MEASUREMENT, b"\x00\x48")
    t_battery, uuid_battery, battery = h.link.queue.get_nowait()
    t_hr, uuid_hr, hr = h.link.queue.get_nowait()
    assert (uuid_battery, battery) == (BATTERY_LEVEL, b"\x57")
    assert (uuid_hr, hr) == (HR_MEASUREMENT, b"\x00\x48")
    assert isinstance(hr, bytes)
    assert t_battery <= t_hr
    snap = h.link.snapshot()
    assert snap.connected
    assert snap.connects == 1
    assert snap.notifications == 2
    assert snap.address == ADDRESS
    assert snap.subscribed == (HR_MEASUREMENT, BATTERY_LEVEL)


async def test_connection_abort_is_transient_and_retried_from_a_fresh_advertisement(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([ABORT, ABORT, hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    assert len(h.factory.attempts) == 3
    seen = [a.seen_ns for a in h.factory.attempts]
    assert seen == sorted(set(seen)), "each attempt must use a newer advertisement"
    snap = h.link.snapshot()
    assert snap.failures == 2
    assert snap.last_error is not None
    assert "le-connection-abort-by-local" in snap.last_error


async def test_device_not_found_waits_for_an_advertisement_then_connects(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start(advertising=False)
    await until(lambda: h.link.snapshot().failures >= 2)
    assert h.factory.attempts == []
    assert "no advertisement" in (h.link.snapshot().last_error or "")
    h.tasks.append(asyncio.create_task(h.advertiser.keep_advertising()))
    await until(lambda: h.link.state is LinkState.STREAMING)
    assert len(h.factory.attempts) == 1


async def test_bluez_device_not_found_during_connect_is_retried(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([BleakDeviceNotFoundError(ADDRESS, "gone"), hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    assert h.link.snapshot().failures == 1


async def test_hanging_connect_times_out_and_is_retried(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([None, hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    snap = h.link.snapshot()
    assert snap.failures == 1
    assert "no connection within" in (snap.last_error or "")


async def test_silent_link_is_torn_down_by_the_watchdog_and_rebuilt(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start()
    await until(lambda: len(h.factory.clients) == 2)
    first = h.factory.clients[0]
    assert first.disconnect_calls == 1
    assert "no notification for" in (h.link.snapshot().last_error or "")


async def test_notifications_keep_the_watchdog_quiet(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    client = h.factory.clients[0]
    # Three silence periods' worth of notifications, twenty per silence period.
    for _ in range(60):
        client.notify(HR_MEASUREMENT, b"\x00\x50")
        await asyncio.sleep(FAST_CONFIG.silence_timeout_s / 20)
    assert len(h.factory.clients) == 1
    assert h.link.snapshot().failures == 0


async def test_peripheral_disconnect_reconnects(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    first = h.factory.clients[0]
    first.notify(HR_MEASUREMENT, b"\x00\x50")
    first.drop()
    await until(lambda: len(h.factory.clients) == 2 and h.link.state is LinkState.STREAMING)
    snap = h.link.snapshot()
    assert snap.connects == 2
    assert "dropped the link" in (snap.last_error or "")
    h.factory.clients[1].notify(HR_MEASUREMENT, b"\x00\x51")
    payloads = [h.link.queue.get_nowait()[2] for _ in range(h.link.queue.qsize())]
    assert payloads.count(b"\x00\x50") == 1
    assert payloads.count(b"\x00\x51") == 1


async def test_duplicate_notifications_are_queued_as_received(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band(reads={})])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    client = h.factory.clients[0]
    client.notify(HR_MEASUREMENT, b"\x00\x50")
    client.notify(HR_MEASUREMENT, b"\x00\x50")
    first = h.link.queue.get_nowait()
    second = h.link.queue.get_nowait()
    # The link does not judge payloads; each has its own receive time for the consumer to use.
    assert first[1:] == second[1:]
    assert first[0] <= second[0]


async def test_full_queue_drops_and_counts(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band(reads={})])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    client = h.factory.clients[0]
    for i in range(FAST_CONFIG.queue_size + 3):
        client.notify(HR_MEASUREMENT, bytes([0, 60 + i]))
    snap = h.link.snapshot()
    assert snap.notifications == FAST_CONFIG.queue_size
    assert snap.dropped == 3


async def test_a_characteristic_that_refuses_notify_is_skipped(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band(failing_notify={BATTERY_LEVEL})])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    assert h.link.snapshot().subscribed == (HR_MEASUREMENT,)


async def test_a_device_without_supported_characteristics_counts_as_a_failure(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band(failing_notify={HR_MEASUREMENT, BATTERY_LEVEL}, reads={})])
    h.start()
    await until(lambda: h.link.snapshot().failures >= 2)
    assert "none of the supported characteristics" in (h.link.snapshot().last_error or "")
    assert all(c.disconnect_calls == 1 for c in h.factory.clients[:-1])


async def test_repeated_errors_are_logged_once_with_advice(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = await harness_of([ABORT, ABORT, ABORT, ABORT, hr_band()])
    with caplog.at_level(logging.DEBUG, logger="collector.link"):
        h.start()
        await until(lambda: h.link.state is LinkState.STREAMING)
        h.factory.clients[0].notify(HR_MEASUREMENT, b"\x00\x50")
        h.factory.clients[0].drop()
        await until(lambda: len(h.factory.clients) == 2 and h.link.state is LinkState.STREAMING)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    aborts = [m for m in warnings if "le-connection-abort-by-local" in m]
    assert len(aborts) == 1
    assert "interference" in aborts[0]
    assert any("dropped the link" in m for m in warnings)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("recovered after" in m for m in infos)


async def test_stop_disconnects_and_returns(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([hr_band()])
    h.start()
    await until(lambda: h.link.state is LinkState.STREAMING)
    h.link.stop()
    await asyncio.wait_for(h.tasks[0], timeout=5)
    assert h.link.state is LinkState.STOPPED
    assert h.factory.clients[0].disconnect_calls == 1


async def test_cancellation_is_not_swallowed(
    harness_of: Callable[[list[Outcome]], Awaitable[Harness]],
) -> None:
    h = await harness_of([None])
    h.start()
    await until(lambda: len(h.factory.attempts) == 1)
    h.tasks[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await h.tasks[0]
    assert h.link.state is LinkState.STOPPED


def test_translated_abort_keeps_its_class() -> None:
    error = translate_error(ABORT, address=ADDRESS, during="connect")
    assert isinstance(error, ConnectAbortedError)
    assert classify(error) is ErrorClass.TRANSIENT
    assert error.fields["address"] == ADDRESS
