"""A scripted fake BLE stack for the link state-machine tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bleak.exc import BleakDBusError, BleakError

from collector.link import (
    Advertisement,
    AdvertisementBoard,
    BackoffCurve,
    DisconnectedCallback,
    ErrorClass,
    LinkConfig,
    LinkRetryPolicy,
    NotifyHandler,
    normalise_uuid,
)

HR_MEASUREMENT = normalise_uuid("2a37")
BATTERY_LEVEL = normalise_uuid("2a19")
RSC_MEASUREMENT = normalise_uuid("2a53")
ADDRESS = "AA:BB:CC:DD:EE:01"

FAST_CONFIG = LinkConfig(
    advertisement_wait_s=0.05,
    connect_timeout_s=0.05,
    subscribe_timeout_s=0.05,
    silence_timeout_s=0.1,
    disconnect_timeout_s=0.05,
    queue_size=8,
)
FAST_POLICY = LinkRetryPolicy(
    curves={cls: BackoffCurve(base_s=0.001, cap_s=0.004) for cls in ErrorClass},
)


Responder = Callable[["FakeClient", str, bytes], list[tuple[str, bytes]]]
"""The device's side of a write: the notifications it sends in answer, ``(uuid, payload)``."""


class FakeClient:
    """A connected client whose notifications and disconnects the test drives."""

    def __init__(
        self,
        uuids: set[str],
        *,
        disconnected: DisconnectedCallback,
        reads: dict[str, bytes] | None = None,
        failing_notify: set[str] | None = None,
        responder: Responder | None = None,
    ) -> None:
        self._uuids = frozenset(uuids)
        self._disconnected = disconnected
        self._reads = reads or {}
        self._failing = failing_notify or set()
        self._responder = responder
        self.handlers: dict[str, NotifyHandler] = {}
        self.writes: list[tuple[str, bytes]] = []
        self.connected = True
        self.disconnect_calls = 0

    @property
    def is_connected(self) -> bool:
        return self.connected

    def characteristic_uuids(self) -> frozenset[str]:
        return self._uuids

    async def start_notify(self, uuid: str, handler: NotifyHandler) -> None:
        if uuid in self._failing:
            raise BleakDBusError("org.bluez.Error.NotSupported", ["Operation is not supported"])
        self.handlers[uuid] = handler

    async def read(self, uuid: str) -> bytes:
        return self._reads[uuid]

    async def write(self, uuid: str, data: bytes) -> None:
        if not self.connected:
            raise BleakError("Not connected")
        self.writes.append((uuid, bytes(data)))
        answers = [] if self._responder is None else self._responder(self, uuid, bytes(data))
        loop = asyncio.get_running_loop()
        for answer_uuid, payload in answers:
            # Answers arrive after the write returns, as they would over the air.
            if answer_uuid in self.handlers:
                loop.call_soon(self.handlers[answer_uuid], bytearray(payload))

    async def disconnect(self) -> None:
        self.disconnect_calls += 1
        self.connected = False

    def notify(self, uuid: str, payload: bytes) -> None:
        self.handlers[uuid](bytearray(payload))

    def drop(self) -> None:
        """The peripheral goes away: BlueZ reports Connected = False."""
        self.connected = False
        self._disconnected()


Outcome = BaseException | Callable[[DisconnectedCallback], FakeClient] | None
"""An exception to raise, a client builder, or ``None`` to hang until cancelled."""


@dataclass
class FakeFactory:
    """Plays a script of connection outcomes, one per attempt; repeats the last one."""

    script: list[Outcome]
    attempts: list[Advertisement] = field(default_factory=list)
    clients: list[FakeClient] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(
        self, advertisement: Advertisement, *, disconnected: DisconnectedCallback
    ) -> FakeClient:
        self.attempts.append(advertisement)
        outcome = self.script[min(len(self.attempts), len(self.script)) - 1]
        if outcome is None:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")
        if isinstance(outcome, BaseException):
            raise outcome
        client = outcome(disconnected)
        self.clients.append(client)
        self.connected.set()
        return client


def hr_band(
    *, reads: dict[str, bytes] | None = None, failing_notify: set[str] | None = None
) -> Callable[[DisconnectedCallback], FakeClient]:
    """A builder for a band offering heart rate and battery."""

    def build(disconnected: DisconnectedCallback) -> FakeClient:
        return FakeClient(
            {HR_MEASUREMENT, BATTERY_LEVEL, normalise_uuid("2a00")},
            disconnected=disconnected,
            reads=reads if reads is not None else {BATTERY_LEVEL: b"\x57"},
            failing_notify=failing_notify,
        )

    return build


class Advertiser:
    """Offers advertisements to a board, stamped with the monotonic clock the link uses."""

    def __init__(self, board: AdvertisementBoard, *, name: str = "Band") -> None:
        self.board = board
        self.name = name
        self._last_ns = 0

    def advertise(self, address: str = ADDRESS, *, rssi_dbm: int = -60) -> Advertisement:
        self._last_ns = max(time.monotonic_ns(), self._last_ns + 1)
        advert = Advertisement(
            address=address,
            name=self.name,
            rssi_dbm=rssi_dbm,
            service_uuids=(normalise_uuid("180d"),),
            seen_ns=self._last_ns,
        )
        self.board.offer(advert)
        return advert

    async def keep_advertising(self, address: str = ADDRESS) -> None:
        """Advertise continually, as a device that is awake and in range does."""
        while True:
            self.advertise(address)
            await asyncio.sleep(0.002)
