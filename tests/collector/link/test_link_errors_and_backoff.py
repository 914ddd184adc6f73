"""Error translation at the bleak boundary, backoff curves, the advertisement board, the clock."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakCharacteristicNotFoundError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)
from bleak_retry_connector import BleakAbortedError, BleakConnectionError, BleakNotFoundError
from dbus_fast import AuthError

from collector.errors import (
    AdapterUnavailableError,
    CollectorError,
    ConnectAbortedError,
    ConnectFailedError,
    DeviceDisconnectedError,
    DeviceError,
    DeviceNotFoundError,
    DeviceTimeoutError,
    GattOperationError,
)
from collector.link import (
    NO_RETRY,
    Advertisement,
    AdvertisementBoard,
    Backoff,
    BackoffCurve,
    ClockAnchor,
    ErrorClass,
    LinkRetryPolicy,
    classify,
    normalise_address,
    normalise_uuid,
    translate_error,
)

ADDRESS = "AA:BB:CC:DD:EE:02"


@pytest.mark.parametrize(
    ("exc", "kind", "error_class"),
    [
        (
            BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"]),
            ConnectAbortedError,
            ErrorClass.TRANSIENT,
        ),
        (
            BleakAbortedError("Band - AA: Failed to connect: le-connection-abort-by-local"),
            ConnectAbortedError,
            ErrorClass.TRANSIENT,
        ),
        (BleakDeviceNotFoundError(ADDRESS, "gone"), DeviceNotFoundError, ErrorClass.NOT_FOUND),
        (BleakNotFoundError("Band: Failed to connect"), DeviceNotFoundError, ErrorClass.NOT_FOUND),
        (
            BleakDBusError("org.freedesktop.DBus.Error.UnknownObject", ["no such object"]),
            DeviceNotFoundError,
            ErrorClass.NOT_FOUND,
        ),
        (TimeoutError(), DeviceTimeoutError, ErrorClass.TIMEOUT),
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found.",
                BleakBluetoothNotAvailableReason.POWERED_OFF,
            ),
            AdapterUnavailableError,
            ErrorClass.ADAPTER,
        ),
        (
            BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["org.bluez"]),
            AdapterUnavailableError,
            ErrorClass.ADAPTER,
        ),
        (
            FileNotFoundError(2, "No such file", "/run/dbus/system_bus_socket"),
            AdapterUnavailableError,
            ErrorClass.ADAPTER,
        ),
        (AuthError("rejected"), AdapterUnavailableError, ErrorClass.ADAPTER),
        (EOFError(), ConnectAbortedError, ErrorClass.TRANSIENT),
        (BrokenPipeError(), ConnectAbortedError, ErrorClass.TRANSIENT),
        (
            BleakConnectionError("Band: Failed to connect after 4 attempt(s): refused"),
            ConnectFailedError,
            ErrorClass.CONNECT,
        ),
        (BleakCharacteristicNotFoundError("2a37"), GattOperationError, ErrorClass.CONNECT),
        (BleakError("Not connected"), DeviceDisconnectedError, ErrorClass.TRANSIENT),
        (BleakError("something odd"), ConnectFailedError, ErrorClass.CONNECT),
    ],
)
def test_third_party_errors_are_translated_once(
    exc: BaseException, kind: type[DeviceError], error_class: ErrorClass
) -> None:
    error = translate_error(exc, address=ADDRESS, during="connect")
    assert type(error) is kind
    assert isinstance(error, CollectorError)
    assert classify(error) is error_class
    assert error.fields["address"] == ADDRESS
    assert error.fields["advice"]
    assert error.message.startswith(f"connect {ADDRESS}")
    # A DeviceError passes through untouched: translation happens once.
    assert translate_error(error, address="other", during="read") is error


def test_backoff_grows_per_class_caps_jitters_and_resets() -> None:
    policy = LinkRetryPolicy(
        curves={c: BackoffCurve(base_s=1.0, cap_s=8.0) for c in ErrorClass}, jitter=0.5
    )
    backoff = Backoff(policy=policy, rng=random.Random(1))
    delays = [backoff.failure(ErrorClass.TIMEOUT) for _ in range(6)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    # Another class has its own streak.
    assert backoff.streak(ErrorClass.TRANSIENT) == 0
    assert 0.5 <= backoff.failure(ErrorClass.TRANSIENT) <= 1.0
    assert backoff.total_streak == 7
    backoff.success()
    assert backoff.total_streak == 0
    assert 0.5 <= backoff.failure(ErrorClass.TIMEOUT) <= 1.0


def test_backoff_is_reproducible_with_a_seed() -> None:
    def run(seed: int) -> list[float]:
        backoff = Backoff(policy=LinkRetryPolicy(), rng=random.Random(seed))
        return [backoff.failure(ErrorClass.CONNECT) for _ in range(5)]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_default_policy_covers_every_retried_class_and_rejects_bad_values() -> None:
    assert set(LinkRetryPolicy().curves) == set(ErrorClass) - NO_RETRY
    assert {ErrorClass.CREDENTIALS} == NO_RETRY
    with pytest.raises(ValueError, match="not retried"):
        Backoff(policy=LinkRetryPolicy(), rng=random.Random(0)).failure(ErrorClass.CREDENTIALS)
    with pytest.raises(ValueError, match="jitter"):
        LinkRetryPolicy(jitter=1.5)
    with pytest.raises(ValueError, match="no backoff curve"):
        LinkRetryPolicy(curves={ErrorClass.TIMEOUT: BackoffCurve(base_s=1, cap_s=2)})
    with pytest.raises(ValueError, match="invalid backoff curve"):
        BackoffCurve(base_s=5, cap_s=1)


async def test_board_returns_only_advertisements_newer_than_the_last_attempt() -> None:
    board = AdvertisementBoard()
    old = Advertisement(ADDRESS, "Band", -70, (), seen_ns=100)
    board.offer(old)
    assert await board.wait_fresh(ADDRESS.lower(), after_ns=50, timeout_s=1) == old
    with pytest.raises(DeviceNotFoundError, match="no advertisement"):
        await board.wait_fresh(ADDRESS, after_ns=100, timeout_s=0.01)
    waiter = asyncio.create_task(board.wait_fresh(ADDRESS, after_ns=100, timeout_s=5))
    await asyncio.sleep(0)
    new = Advertisement(ADDRESS, "Band", -50, (), seen_ns=200)
    board.offer(new)
    assert await waiter == new
    board.offer(Advertisement("AA:BB:CC:DD:EE:03", None, -40, (), seen_ns=300))
    assert [a.rssi_dbm for a in board.all_latest()] == [-40, -50]


def test_uuid_and_address_normalisation() -> None:
    assert normalise_uuid("2A37") == "00002a37-0000-1000-8000-00805f9b34fb"
    assert normalise_uuid("0x180D") == "0000180d-0000-1000-8000-00805f9b34fb"
    assert normalise_uuid("00002A37-0000-1000-8000-00805F9B34FB") == normalise_uuid("2a37")
    assert normalise_address("aa-bb-cc-dd-ee-ff") == "AA:BB:CC:DD:EE:FF"


def test_clock_anchor_maps_monotonic_to_wall_time() -> None:
    anchor = ClockAnchor(monotonic_ns=5_000_000_000, wall_ns=1_778_403_600_000_000_000)
    assert anchor.to_datetime(5_000_000_000) == datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
    assert anchor.to_datetime(6_250_000_000) == datetime(2026, 5, 10, 9, 0, 1, 250_000, tzinfo=UTC)
    live = ClockAnchor.now()
    assert abs(live.wall_ns_of(live.monotonic_ns) - live.wall_ns) == 0
