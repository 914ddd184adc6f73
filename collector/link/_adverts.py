"""The latest advertisement of every device, fed by one long-lived scanner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from collector.errors import DeviceNotFoundError
from collector.link._classify import make_error
from collector.link._client import Advertisement, normalise_address

__all__ = ["AdvertisementBoard"]


class AdvertisementBoard:
    """Keeps the newest advertisement per address and wakes links waiting for a fresh one.

    The scanner's detection callback calls :meth:`offer` (cheap: a dict store and an event set);
    each :class:`~collector.link.DeviceLink` calls :meth:`wait_fresh` before every connection
    attempt, so it always connects from a current advertisement, never from a stale BlueZ object.

    Parameters
    ----------
    clock_ns
        Monotonic clock in nanoseconds; injectable for tests.
    """

    def __init__(self, *, clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock_ns = clock_ns
        self._latest: dict[str, Advertisement] = {}
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def offer(self, advertisement: Advertisement) -> None:
        """Record an advertisement (called from the scanner callback)."""
        address = normalise_address(advertisement.address)
        self._latest[address] = advertisement
        for event in self._waiters.get(address, ()):
            event.set()

    def latest(self, address: str) -> Advertisement | None:
        """The newest advertisement from ``address``, if any was seen."""
        return self._latest.get(normalise_address(address))

    def all_latest(self) -> tuple[Advertisement, ...]:
        """The newest advertisement of every device seen, strongest signal first."""
        return tuple(sorted(self._latest.values(), key=lambda a: (-a.rssi_dbm, a.address)))

    async def wait_fresh(self, address: str, *, after_ns: int, timeout_s: float) -> Advertisement:
        """Wait for an advertisement from ``address`` received after ``after_ns``.

        Parameters
        ----------
        address
            Bluetooth address of the device.
        after_ns
            Monotonic time (ns); an advertisement seen at or before it is too old.
        timeout_s
            How long to wait, seconds.

        Raises
        ------
        DeviceNotFoundError
            No fresh advertisement arrived within ``timeout_s``.
        """
        key = normalise_address(address)
        event = asyncio.Event()
        self._waiters.setdefault(key, set()).add(event)
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    current = self._latest.get(key)
                    if current is not None and current.seen_ns > after_ns:
                        return current
                    event.clear()
                    await event.wait()
        except TimeoutError:
            raise make_error(
                DeviceNotFoundError,
                f"no advertisement from {key} within {timeout_s:.0f} s",
                address=key,
            ) from None
        finally:
            waiters = self._waiters[key]
            waiters.discard(event)
            if not waiters:
                del self._waiters[key]
