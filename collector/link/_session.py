"""Device-specific steps around one connection: authenticate, start the streams, keep them alive.

Most devices notify as soon as the link subscribes. Some need a conversation first (a Huami band
must be authenticated on every connection) or commands written after subscribing (its heart
rate starts on a control-point command and stops unless pinged). A :class:`SessionHooks`
implementation holds that conversation; :class:`~collector.link.DeviceLink` calls it at the right
moments and turns whatever it raises into the usual classified retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from collector.errors import DeviceDisconnectedError, DeviceError, DeviceTimeoutError
from collector.link._classify import make_error, translate_error
from collector.link._client import Advertisement, LinkClient

__all__ = ["SessionContext", "SessionHooks", "next_notification", "run_hook", "watch_beside"]


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What the hooks may use during one connection.

    Parameters
    ----------
    client
        The connected client.
    advertisement
        The advertisement the connection was made from (its name tells device models apart).
    disconnected
        Set by the BLE stack's disconnected callback; hooks waiting for an answer watch it.
    name
        Human name of the device, for logs.
    """

    client: LinkClient
    advertisement: Advertisement
    disconnected: asyncio.Event
    name: str

    @property
    def address(self) -> str:
        """Bluetooth address of the device."""
        return self.advertisement.address


class SessionHooks(Protocol):
    """The device-specific part of a session; every method raises a ``DeviceError`` on failure."""

    @property
    def notify_uuids(self) -> tuple[str, ...]:
        """Extra characteristics to subscribe to once authenticated."""
        ...

    @property
    def read_uuids(self) -> tuple[str, ...]:
        """Extra characteristics to read once after subscribing."""
        ...

    @property
    def confirmation_s(self) -> float:
        """Extra time the next authentication may wait for the wearer to confirm on the device
        (a Huami band's tap on first pairing), seconds; ``0.0`` when it needs no confirmation."""
        ...

    async def authenticate(self, context: SessionContext) -> None:
        """Run before subscribing; the link bounds it with ``LinkConfig.auth_timeout_s`` plus
        :attr:`confirmation_s`."""
        ...

    async def start_streams(self, context: SessionContext) -> None:
        """Run after subscribing (e.g. write start commands to a control point)."""
        ...

    async def keep_alive(self, context: SessionContext) -> None:
        """Run while streaming; return when nothing needs keeping alive, raise to reconnect."""
        ...


async def next_notification(queue: asyncio.Queue[bytes], context: SessionContext) -> bytes:
    """Wait for the next payload in ``queue``; raise when the link drops first.

    Raises
    ------
    DeviceDisconnectedError
        The peripheral dropped the link while the answer was awaited.
    """
    while True:
        if not queue.empty():
            return queue.get_nowait()
        if context.disconnected.is_set():
            if not context.client.is_connected:
                raise make_error(
                    DeviceDisconnectedError,
                    f"{context.address}: the peripheral dropped the link mid-conversation",
                    address=context.address,
                )
            # bleak reports attempts aborted inside its own connect retries, before the
            # connection that succeeded (the same case DeviceLink._watch ignores).
            context.disconnected.clear()
        getter = asyncio.ensure_future(queue.get())
        dropped = asyncio.ensure_future(context.disconnected.wait())
        try:
            done, _ = await asyncio.wait({getter, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (getter, dropped):
                task.cancel()
        if getter in done and not getter.cancelled():
            return getter.result()


async def run_hook(
    step: Awaitable[None], *, address: str, during: str, timeout_s: float | None = None
) -> None:
    """Await a session hook, under a deadline when given, translating whatever it raises.

    Raises
    ------
    DeviceTimeoutError
        The hook did not finish within ``timeout_s``.
    DeviceError
        What the hook raised, translated by :func:`collector.link.translate_error` when it was
        not a ``DeviceError`` already.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await step
    except TimeoutError as exc:
        raise make_error(
            DeviceTimeoutError,
            f"{during} {address}: not done within {timeout_s} s",
            address=address,
        ) from exc
    except DeviceError:
        raise
    except Exception as exc:
        raise translate_error(exc, address=address, during=during) from exc


async def watch_beside(watch: Awaitable[None], keep_alive: Awaitable[None]) -> None:
    """Run the link's watchdog with a keep-alive beside it; the first failure ends both.

    A keep-alive that returns (nothing to keep alive) leaves the watchdog running alone.
    """
    watcher = asyncio.ensure_future(watch)
    keeper = asyncio.ensure_future(keep_alive)
    try:
        done, _ = await asyncio.wait({keeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher in done:
            watcher.result()
            return
        keeper.result()  # raises the keep-alive's failure, if that is what ended first
        await watcher
    finally:
        for task in (keeper, watcher):
            task.cancel()
        await asyncio.gather(keeper, watcher, return_exceptions=True)
