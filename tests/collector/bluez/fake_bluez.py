"""A fake BlueZ daemon: owns ``org.bluez`` on a private bus and simulates peripherals.

bleak talks to it exactly as to bluetoothd: ``GetManagedObjects`` on ``/``, ``InterfacesAdded`` /
``InterfacesRemoved`` and ``PropertiesChanged`` signals, ``Adapter1.StartDiscovery``,
``Device1.Connect``/``Disconnect``, ``GattCharacteristic1.StartNotify``/``ReadValue``. While
discovery is on, every advertising peripheral re-announces itself with an RSSI change (what
bleak treats as an advertisement); once connected it stops advertising and notifies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, RequestNameReply

from tests.collector.bluez.fake_bluez_objects import (
    Adapter,
    Characteristic,
    Device,
    GattService,
    bluez_error,
)

__all__ = ["CharSpec", "FakeBlueZ", "Firmware", "Peripheral", "PeripheralSpec"]

ADAPTER_PATH = "/org/bluez/hci0"


@dataclass(frozen=True)
class CharSpec:
    """One characteristic: UUID, BlueZ flags, initial value, and a payload generator.

    ``payload(tick)`` returns the bytes of notification number ``tick`` (0, 1, ...), or ``None``
    for a characteristic that is read, not notified.
    """

    uuid: str
    flags: tuple[str, ...]
    value: bytes = b""
    payload: Callable[[int], bytes] | None = None


class Firmware(Protocol):
    """A device's own logic for one connection: answers to writes, and which streams flow."""

    def on_write(self, uuid: str, value: bytes) -> list[tuple[str, bytes]]:
        """Handle a write; return the ``(uuid, payload)`` notifications sent in answer."""
        ...

    def answer_delay_s(self, payload: bytes) -> float:
        """How long after the write an answer is sent (a wearer's confirmation takes a while)."""
        ...

    def streams(self, uuid: str) -> bool:
        """Whether ``uuid`` notifies periodically right now."""
        ...


@dataclass(frozen=True)
class PeripheralSpec:
    """A simulated device: address, name, advertised UUIDs, GATT services.

    ``firmware``, when given, builds a fresh :class:`Firmware` on every connection; without one
    every subscribed characteristic with a payload generator notifies and writes are recorded
    only.
    """

    address: str
    name: str
    advertised: tuple[str, ...]
    services: dict[str, tuple[CharSpec, ...]]
    firmware: Callable[[], Firmware] | None = None


@dataclass
class Peripheral:
    """Run-time state of one simulated device."""

    spec: PeripheralSpec
    device: Device
    path: str
    advertising: bool = True
    exported: bool = False
    silent: bool = False
    connect_errors: list[str] = field(default_factory=list)
    gatt: list[tuple[str, GattService | Characteristic]] = field(default_factory=list)
    ticks: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    notifications: int = 0
    firmwares: list[Firmware] = field(default_factory=list)
    writes: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def firmware(self) -> Firmware | None:
        """The current (or last) connection's firmware."""
        return self.firmwares[-1] if self.firmwares else None


class FakeBlueZ:
    """The fake daemon. Use :meth:`start` on a bus address, then :meth:`add` peripherals.

    Parameters
    ----------
    advertise_interval_s
        Period of the simulated advertisements, seconds.
    notify_interval_s
        Period of notifications on every subscribed characteristic, seconds.
    """

    def __init__(self, *, advertise_interval_s: float, notify_interval_s: float) -> None:
        self.advertise_interval_s = advertise_interval_s
        self.notify_interval_s = notify_interval_s
        self.adapter = Adapter(self, address="00:1A:7D:DA:71:13")
        self.peripherals: dict[str, Peripheral] = {}
        self._bus: MessageBus | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, bus_address: str) -> None:
        """Connect to the bus, own ``org.bluez`` and export the adapter."""
        bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
        self._bus = bus
        bus.export(ADAPTER_PATH, self.adapter)
        reply = await bus.request_name("org.bluez", NameFlag.DO_NOT_QUEUE)
        if reply is not RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"could not own org.bluez: {reply}")
        self._tasks.append(asyncio.create_task(self._advertise_forever()))
        self._tasks.append(asyncio.create_task(self._notify_forever()))

    async def stop(self) -> None:
        """Stop the simulation and leave the bus."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._bus is not None:
            self._bus.disconnect()
            with contextlib.suppress(Exception):
                await self._bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
            self._bus = None

    def reset(self) -> None:
        """Forget every peripheral (between tests)."""
        for peripheral in list(self.peripherals.values()):
            self._unexport_gatt(peripheral)
            if peripheral.exported:
                self._require_bus().unexport(peripheral.path)
        self.peripherals.clear()

    def _require_bus(self) -> MessageBus:
        if self._bus is None:
            raise RuntimeError("FakeBlueZ.start() has not been called")
        return self._bus

    # -- scenario controls -------------------------------------------------------------------

    def add(self, spec: PeripheralSpec) -> Peripheral:
        """Put a peripheral in range; it advertises while discovery is on."""
        path = f"{ADAPTER_PATH}/dev_{spec.address.replace(':', '_')}"
        device = Device(
            self,
            address=spec.address,
            name=spec.name,
            adapter_path=ADAPTER_PATH,
            uuids=list(spec.advertised),
        )
        peripheral = Peripheral(spec=spec, device=device, path=path)
        self.peripherals[spec.address] = peripheral
        if self.adapter.discovering:
            self._export_device(peripheral)
        return peripheral

    def fail_next_connects(self, address: str, *errors: str) -> None:
        """Make the next connection attempts fail with these ``org.bluez.Error.Failed`` texts."""
        self.peripherals[address].connect_errors.extend(errors)

    async def drop(self, address: str, *, away_s: float) -> None:
        """The peripheral leaves: link lost, no advertisements for ``away_s``, then back."""
        peripheral = self.peripherals[address]
        peripheral.advertising = False
        self._link_lost(peripheral)
        await asyncio.sleep(away_s)
        peripheral.advertising = True

    def silence(self, address: str, *, silent: bool = True) -> None:
        """Keep the link up but stop (or resume) notifications."""
        self.peripherals[address].silent = silent

    # -- Controller protocol (called by the D-Bus objects) ----------------------------------

    async def start_discovery(self) -> None:
        self.adapter.discovering = True
        self.adapter.emit_properties_changed({"Discovering": True})
        for peripheral in self.peripherals.values():
            if peripheral.advertising and not peripheral.exported:
                self._export_device(peripheral)

    async def stop_discovery(self) -> None:
        self.adapter.discovering = False
        self.adapter.emit_properties_changed({"Discovering": False})

    async def connect(self, device: Device) -> None:
        peripheral = self.peripherals[device.address]
        if device.connected:
            raise bluez_error("AlreadyConnected", "Already Connected")
        if peripheral.connect_errors or not peripheral.advertising:
            # A peripheral out of range ends the same way as an interfered attempt.
            reason = (
                peripheral.connect_errors.pop(0)
                if peripheral.connect_errors
                else "le-connection-abort-by-local"
            )
            # BlueZ reports the controller's brief connection before the abort.
            self._set_connected(peripheral, connected=True)
            self._set_connected(peripheral, connected=False)
            raise bluez_error("Failed", reason)
        self._set_connected(peripheral, connected=True)
        peripheral.connects += 1
        if peripheral.spec.firmware is not None:
            peripheral.firmwares.append(peripheral.spec.firmware())
        self._export_gatt(peripheral)
        device.services_resolved = True
        device.emit_properties_changed({"ServicesResolved": True})

    async def disconnect(self, device: Device) -> None:
        peripheral = self.peripherals[device.address]
        if not device.connected:
            raise bluez_error("NotConnected", "Not Connected")
        self._link_lost(peripheral)

    def start_notify(self, char: Characteristic) -> None:
        if not char.notifying:
            char.notifying = True
            char.emit_properties_changed({"Notifying": True})

    def stop_notify(self, char: Characteristic) -> None:
        if char.notifying:
            char.notifying = False
            char.emit_properties_changed({"Notifying": False})

    def write_value(self, char: Characteristic, value: bytes) -> None:
        peripheral = next(
            p for p in self.peripherals.values() if char.service_path.startswith(p.path + "/")
        )
        peripheral.writes.append((char.uuid, value))
        firmware = peripheral.firmware
        if firmware is None or not peripheral.device.connected:
            return
        by_uuid = {obj.uuid: obj for _, obj in peripheral.gatt if isinstance(obj, Characteristic)}
        loop = asyncio.get_running_loop()
        for uuid, payload in firmware.on_write(char.uuid, value):
            target = by_uuid.get(uuid)
            if target is not None and target.notifying:
                # Sent after the write's reply, as the answer comes over the air later.
                delay_s = firmware.answer_delay_s(payload)
                if delay_s > 0:
                    loop.call_later(delay_s, self._answer_if_connected, peripheral, target, payload)
                else:
                    loop.call_soon(target.push, payload)

    # -- internals ---------------------------------------------------------------------------

    def _answer_if_connected(
        self, peripheral: Peripheral, target: Characteristic, payload: bytes
    ) -> None:
        """A late answer reaches the host only over the link it was asked on."""
        exported = any(obj is target for _, obj in peripheral.gatt)
        if exported and peripheral.device.connected and target.notifying:
            target.push(payload)

    def _export_device(self, peripheral: Peripheral) -> None:
        self._require_bus().export(peripheral.path, peripheral.device)
        peripheral.exported = True

    def _set_connected(self, peripheral: Peripheral, *, connected: bool) -> None:
        peripheral.device.connected = connected
        peripheral.device.emit_properties_changed({"Connected": connected})

    def _link_lost(self, peripheral: Peripheral) -> None:
        device = peripheral.device
        if not device.connected:
            return
        device.services_resolved = False
        device.emit_properties_changed({"ServicesResolved": False})
        self._unexport_gatt(peripheral)
        self._set_connected(peripheral, connected=False)

    def _export_gatt(self, peripheral: Peripheral) -> None:
        bus = self._require_bus()
        handle = 0x000C  # first attribute handle after GAP/GATT services on typical devices
        for service_uuid, chars in peripheral.spec.services.items():
            service_path = f"{peripheral.path}/service{handle:04x}"
            service = GattService(uuid=service_uuid, device_path=peripheral.path, handle=handle)
            bus.export(service_path, service)
            peripheral.gatt.append((service_path, service))
            handle += 1
            for spec in chars:
                char_path = f"{service_path}/char{handle:04x}"
                char = Characteristic(
                    self,
                    uuid=spec.uuid,
                    service_path=service_path,
                    handle=handle,
                    flags=list(spec.flags),
                    value=spec.value,
                )
                bus.export(char_path, char)
                peripheral.gatt.append((char_path, char))
                handle += 2  # value handle plus its CCCD descriptor
            handle += 1

    def _unexport_gatt(self, peripheral: Peripheral) -> None:
        bus = self._require_bus()
        for path, _ in reversed(peripheral.gatt):
            bus.unexport(path)
        peripheral.gatt.clear()

    async def _advertise_forever(self) -> None:
        step = 0
        while True:
            await asyncio.sleep(self.advertise_interval_s)
            if not self.adapter.discovering:
                continue
            step += 1
            for peripheral in list(self.peripherals.values()):
                if not peripheral.advertising or peripheral.device.connected:
                    continue
                if not peripheral.exported:
                    self._export_device(peripheral)
                    continue
                # Alternate the RSSI so each advertisement is a property change.
                peripheral.device.rssi = -55 - (step % 2)
                peripheral.device.emit_properties_changed({"RSSI": peripheral.device.rssi})

    async def _notify_forever(self) -> None:
        while True:
            await asyncio.sleep(self.notify_interval_s)
            for peripheral in list(self.peripherals.values()):
                if not peripheral.device.connected or peripheral.silent:
                    continue
                specs = {
                    spec.uuid: spec for chars in peripheral.spec.services.values() for spec in chars
                }
                firmware = peripheral.firmware
                for _, obj in list(peripheral.gatt):
                    if not isinstance(obj, Characteristic) or not obj.notifying:
                        continue
                    if firmware is not None and not firmware.streams(obj.uuid):
                        continue
                    spec = specs[obj.uuid]
                    if spec.payload is None:
                        continue
                    tick = peripheral.ticks.get(obj.uuid, 0)
                    peripheral.ticks[obj.uuid] = tick + 1
                    obj.push(spec.payload(tick))
                    peripheral.notifications += 1
