"""The production BLE stack: bleak's scanner and bleak-retry-connector's connect, kept thin.

Every bleak, bleak-retry-connector and D-Bus error raised here is translated once into a
:class:`collector.errors.DeviceError` by :func:`collector.link.translate_error`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak_retry_connector import (
    BleakClientWithServiceCache,
    close_stale_connections_by_address,
    establish_connection,
)

from collector.errors import DeviceNotFoundError
from collector.link._classify import make_error, translate_error
from collector.link._client import (
    Advertisement,
    DisconnectedCallback,
    LinkClient,
    NotifyHandler,
    normalise_address,
    normalise_uuid,
)

__all__ = [
    "BleakClientFactory",
    "BleakLinkClient",
    "BleakScannerSource",
    "advertisement_from_bleak",
    "close_stale_connection",
]

_LOG = logging.getLogger("collector.link")

# bleak_retry_connector.MAX_CONNECT_ATTEMPTS: four inner attempts before it gives up.
_CONNECT_ATTEMPTS = 4
# bleak.backends.scanner: RSSI reported when BlueZ has none (bleak_retry_connector.NO_RSSI_VALUE).
_NO_RSSI_DBM = -127


def advertisement_from_bleak(
    device: BLEDevice, data: AdvertisementData, *, seen_ns: int
) -> Advertisement:
    """Convert bleak's detection-callback arguments into an :class:`Advertisement`."""
    rssi = data.rssi if data.rssi is not None else _NO_RSSI_DBM
    return Advertisement(
        address=normalise_address(device.address),
        name=data.local_name or device.name,
        rssi_dbm=int(rssi),
        service_uuids=tuple(normalise_uuid(u) for u in data.service_uuids),
        seen_ns=seen_ns,
        device=device,
    )


def _is_connected(data: AdvertisementData) -> bool:
    """Whether BlueZ reports the device connected (``platform_data`` is ``(path, props)``)."""
    platform = data.platform_data
    props = platform[1] if len(platform) > 1 else None
    return isinstance(props, dict) and bool(props.get("Connected", False))


def _advertised_signature(data: AdvertisementData) -> tuple[object, ...]:
    return (
        data.rssi,
        data.local_name,
        data.tx_power,
        tuple(sorted(data.service_uuids)),
        tuple(sorted(data.manufacturer_data.items())),
        tuple(sorted(data.service_data.items())),
    )


class BleakScannerSource:
    """One long-lived active scanner feeding a callback with every advertisement.

    Parameters
    ----------
    on_advertisement
        Called in the event loop for each advertisement; must be cheap.
    adapter
        BlueZ adapter name (``"hci0"``), or ``None`` for the default adapter.
    """

    def __init__(
        self,
        *,
        on_advertisement: Callable[[Advertisement], None],
        adapter: str | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._on_advertisement = on_advertisement
        self._clock_ns = clock_ns
        bluez: Any = {} if adapter is None else {"adapter": adapter}
        self._scanner = BleakScanner(detection_callback=self._detected, bluez=bluez)
        self._running = False
        self._last: dict[str, tuple[object, ...]] = {}

    def _detected(self, device: BLEDevice, data: AdvertisementData) -> None:
        # bleak's BlueZ backend calls back on *any* Device1 property change, "Connected" and
        # "ServicesResolved" included. Only a change of advertised data (RSSI, payloads) from a
        # device that is not connected is a fresh advertisement; anything else would make a link
        # reconnect to a device that has just dropped out of range.
        if _is_connected(data):
            return
        signature = _advertised_signature(data)
        if self._last.get(device.address) == signature:
            return
        self._last[device.address] = signature
        self._on_advertisement(advertisement_from_bleak(device, data, seen_ns=self._clock_ns()))

    async def start(self) -> None:
        """Start scanning; raises a ``DeviceError`` when no adapter is usable."""
        try:
            await self._scanner.start()
        except Exception as exc:
            raise translate_error(exc, address="adapter", during="scan") from exc
        self._running = True

    async def stop(self) -> None:
        """Stop scanning; errors while stopping are logged, not raised."""
        if not self._running:
            return
        self._running = False
        try:
            await self._scanner.stop()
        except Exception as exc:
            _LOG.debug("stopping the scanner failed: %r", exc)


async def close_stale_connection(address: str) -> None:
    """Disconnect a device BlueZ still holds from an earlier run of the collector."""
    try:
        await close_stale_connections_by_address(normalise_address(address))
    except Exception as exc:
        _LOG.debug("closing a stale connection to %s failed: %r", address, exc)


class BleakLinkClient:
    """A connected :class:`bleak_retry_connector.BleakClientWithServiceCache` as a LinkClient."""

    def __init__(self, client: BleakClient, *, address: str) -> None:
        self._client = client
        self._address = address
        self._chars: dict[str, BleakGATTCharacteristic] = {}
        for service in client.services:
            for char in service.characteristics:
                self._chars.setdefault(normalise_uuid(char.uuid), char)

    @property
    def is_connected(self) -> bool:
        """Whether bleak still believes the link is up."""
        return bool(self._client.is_connected)

    def characteristic_uuids(self) -> frozenset[str]:
        """Every characteristic the device offers, lower-case 128-bit UUIDs."""
        return frozenset(self._chars)

    async def start_notify(self, uuid: str, handler: NotifyHandler) -> None:
        """Subscribe through BlueZ ``StartNotify``; ``handler`` gets each payload."""

        def on_value(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            handler(data)

        try:
            await self._client.start_notify(self._chars[uuid], on_value)
        except Exception as exc:
            raise translate_error(exc, address=self._address, during=f"subscribe {uuid}") from exc

    async def read(self, uuid: str) -> bytes:
        """Read one characteristic value."""
        try:
            return bytes(await self._client.read_gatt_char(self._chars[uuid]))
        except Exception as exc:
            raise translate_error(exc, address=self._address, during=f"read {uuid}") from exc

    async def write(self, uuid: str, data: bytes) -> None:
        """Write one value; bleak picks write-with-response when the characteristic offers it."""
        try:
            await self._client.write_gatt_char(self._chars[uuid], data, response=None)
        except Exception as exc:
            raise translate_error(exc, address=self._address, during=f"write {uuid}") from exc

    async def disconnect(self) -> None:
        """Disconnect; bleak makes this a no-op when already disconnected."""
        try:
            await self._client.disconnect()
        except Exception as exc:
            raise translate_error(exc, address=self._address, during="disconnect") from exc


class BleakClientFactory:
    """Connect with ``bleak_retry_connector.establish_connection`` from a fresh advertisement."""

    def __init__(self, *, max_attempts: int = _CONNECT_ATTEMPTS) -> None:
        self._max_attempts = max_attempts

    async def __call__(
        self, advertisement: Advertisement, *, disconnected: DisconnectedCallback
    ) -> LinkClient:
        """Connect, discover services and wrap the client; raise a ``DeviceError`` on failure."""
        device = advertisement.device
        address = advertisement.address
        if not isinstance(device, BLEDevice):
            raise make_error(
                DeviceNotFoundError,
                f"connect {address}: the advertisement carries no BlueZ device",
                address=address,
            )

        def on_disconnect(_client: BleakClient) -> None:
            disconnected()

        try:
            client = await establish_connection(
                BleakClientWithServiceCache,
                device,
                advertisement.name or address,
                disconnected_callback=on_disconnect,
                max_attempts=self._max_attempts,
            )
        except Exception as exc:
            raise translate_error(exc, address=address, during="connect") from exc
        return BleakLinkClient(client, address=address)
