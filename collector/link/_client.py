"""The narrow interfaces the link layer needs from a BLE stack, so tests can inject a fake one.

UUIDs are spelled one way everywhere: :func:`collector.profiles.normalise_uuid` (re-exported).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from collector.profiles import normalise_uuid

__all__ = [
    "Advertisement",
    "ClientFactory",
    "DisconnectedCallback",
    "LinkClient",
    "NotifyHandler",
    "normalise_address",
    "normalise_uuid",
]

NotifyHandler = Callable[[bytearray], None]
"""Called by the BLE stack with each notification payload; must only timestamp and enqueue."""

DisconnectedCallback = Callable[[], None]
"""Called by the BLE stack when the peripheral drops the link."""


def normalise_address(address: str) -> str:
    """Return a Bluetooth address in the upper-case colon form BlueZ reports."""
    return address.strip().upper().replace("-", ":")


@dataclass(frozen=True, slots=True)
class Advertisement:
    """One advertisement seen by the long-lived scanner.

    Parameters
    ----------
    address
        Bluetooth address, upper case with colons.
    name
        Advertised local name, if any.
    rssi_dbm
        Received signal strength, dBm.
    service_uuids
        Advertised service UUIDs, lower-case 128-bit form.
    seen_ns
        ``time.monotonic_ns()`` when the hub received it.
    device
        The stack's own handle (a ``bleak`` ``BLEDevice`` in production), passed to the client
        factory untouched.
    """

    address: str
    name: str | None
    rssi_dbm: int
    service_uuids: tuple[str, ...]
    seen_ns: int
    device: Any = field(default=None, compare=False, repr=False)


class LinkClient(Protocol):
    """A connected GATT client, as the link layer uses it."""

    @property
    def is_connected(self) -> bool:
        """Whether the stack still believes the link is up."""
        ...

    def characteristic_uuids(self) -> frozenset[str]:
        """Every characteristic the device offers, lower-case 128-bit UUIDs."""
        ...

    async def start_notify(self, uuid: str, handler: NotifyHandler) -> None:
        """Subscribe to notifications of characteristic ``uuid``."""
        ...

    async def read(self, uuid: str) -> bytes:
        """Read characteristic ``uuid`` once."""
        ...

    async def write(self, uuid: str, data: bytes) -> None:
        """Write ``data`` to characteristic ``uuid`` (with response when the device offers it)."""
        ...

    async def disconnect(self) -> None:
        """Close the link; safe to call when already disconnected."""
        ...


class ClientFactory(Protocol):
    """Connects to the device behind a fresh advertisement and returns a connected client.

    Implementations translate their stack's errors into :class:`collector.errors.DeviceError`
    subclasses (see :func:`collector.link.translate_error`).
    """

    async def __call__(
        self, advertisement: Advertisement, *, disconnected: DisconnectedCallback
    ) -> LinkClient:
        """Connect and discover services; raise a ``DeviceError`` on failure."""
        ...
