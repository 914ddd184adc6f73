"""One paired device: connect from a fresh advertisement, subscribe, stream, recover, repeat."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Collection

from collector.errors import (
    DeviceDisconnectedError,
    DeviceError,
    DeviceStalledError,
    DeviceTimeoutError,
    GattOperationError,
)
from collector.link._adverts import AdvertisementBoard
from collector.link._backoff import LinkRetryPolicy
from collector.link._classify import make_error, translate_error
from collector.link._client import (
    Advertisement,
    ClientFactory,
    LinkClient,
    NotifyHandler,
    normalise_address,
    normalise_uuid,
)
from collector.link._failures import FailureLog
from collector.link._session import SessionContext, SessionHooks, run_hook, watch_beside
from collector.link._state import LinkConfig, LinkSnapshot, LinkState

__all__ = ["DeviceLink", "Notification"]

_LOG = logging.getLogger("collector.link")

Notification = tuple[int, str, bytes]
"""``(time.monotonic_ns(), characteristic UUID, payload)`` as queued by the BLE callback."""

_NS_PER_S = 1_000_000_000  # nanoseconds per second (SI)


class DeviceLink:
    """Keeps one device connected and its notifications flowing into :attr:`queue`.

    Parameters
    ----------
    address
        Bluetooth address of the device.
    name
        Human name for logs and status.
    advertisements
        Board fed by the hub's single long-lived scanner.
    client_factory
        Connects to a device from an advertisement (bleak-retry-connector in production, a fake
        in tests).
    notify_uuids
        Characteristics to subscribe to when the device offers them.
    read_uuids
        Characteristics read once after each connect (battery level); their values are queued
        like notifications.
    config
        Deadlines and queue size.
    policy
        Backoff curves per error class.
    rng
        Jitter source; ``random.Random(seed)`` in tests.
    session
        Device-specific hooks (authentication, start commands, keep-alive), if the device needs
        any; their ``notify_uuids`` and ``read_uuids`` are added to the link's.
    """

    def __init__(
        self,
        *,
        address: str,
        name: str,
        advertisements: AdvertisementBoard,
        client_factory: ClientFactory,
        notify_uuids: Collection[str],
        read_uuids: Collection[str] = (),
        config: LinkConfig | None = None,
        policy: LinkRetryPolicy | None = None,
        rng: random.Random | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        session: SessionHooks | None = None,
    ) -> None:
        self.address = normalise_address(address)
        self.name = name
        self._board = advertisements
        self._factory = client_factory
        self._session = session
        if session is not None:
            notify_uuids = [*notify_uuids, *session.notify_uuids]
            read_uuids = [*read_uuids, *session.read_uuids]
        self._notify_uuids = tuple(dict.fromkeys(normalise_uuid(u) for u in notify_uuids))
        self._read_uuids = tuple(dict.fromkeys(normalise_uuid(u) for u in read_uuids))
        self._config = config or LinkConfig()
        self._failure_log = FailureLog(
            name=name,
            policy=policy or LinkRetryPolicy(),
            rng=rng or random.Random(),  # noqa: S311 - jitter, not secrets
        )
        self._clock_ns = clock_ns
        self.queue: asyncio.Queue[Notification] = asyncio.Queue(maxsize=self._config.queue_size)
        self._state = LinkState.IDLE
        self._client: LinkClient | None = None
        self._disconnected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_attempt_ns = 0
        self._connects = 0
        self._notifications = 0
        self._dropped = 0
        self._last_rx_ns: int | None = None
        self._subscribed: tuple[str, ...] = ()
        self._stream_start_count = 0

    # -- public surface --------------------------------------------------------------------

    @property
    def state(self) -> LinkState:
        """The current state."""
        return self._state

    def snapshot(self) -> LinkSnapshot:
        """A consistent copy of the link's counters and state."""
        return LinkSnapshot(
            address=self.address,
            name=self.name,
            state=self._state,
            connected=self._state is LinkState.STREAMING,
            connects=self._connects,
            failures=self._failure_log.failures,
            notifications=self._notifications,
            dropped=self._dropped,
            last_notification_ns=self._last_rx_ns,
            last_error=self._failure_log.last_error,
            subscribed=self._subscribed,
        )

    def stop(self) -> None:
        """Ask :meth:`run` to disconnect and return."""
        self._stopping.set()
        self._disconnected.set()

    async def run(self) -> None:
        """Connect, stream and recover until :meth:`stop` is called (or the task is cancelled)."""
        try:
            while not self._stopping.is_set():
                delay_s = await self._one_session()
                if self._stopping.is_set():
                    break
                if delay_s is None:
                    # Retrying cannot help: stay idle until the collector is stopped.
                    self._state = LinkState.REFUSED
                    await self._stopping.wait()
                    break
                self._state = LinkState.BACKING_OFF
                try:
                    async with asyncio.timeout(delay_s):
                        await self._stopping.wait()
                except TimeoutError:
                    pass
        finally:
            self._state = LinkState.STOPPED

    # -- one connect → stream → teardown cycle ----------------------------------------------

    async def _one_session(self) -> float | None:
        """Run one session; return the delay before the next one (s), ``None`` for never."""
        try:
            self._state = LinkState.WAITING_FOR_ADVERTISEMENT
            advert = await self._board.wait_fresh(
                self.address,
                after_ns=self._last_attempt_ns,
                timeout_s=self._config.advertisement_wait_s,
            )
            self._state = LinkState.CONNECTING
            self._disconnected.clear()
            self._client = await self._connect(advert)
            context = SessionContext(
                client=self._client,
                advertisement=advert,
                disconnected=self._disconnected,
                name=self.name,
            )
            if self._session is not None:
                confirmation_s = self._session.confirmation_s
                self._state = (
                    LinkState.CONFIRMING if confirmation_s > 0 else LinkState.AUTHENTICATING
                )
                await run_hook(
                    self._session.authenticate(context),
                    address=self.address,
                    during="authenticate",
                    timeout_s=self._config.auth_timeout_s + confirmation_s,
                )
            self._state = LinkState.SUBSCRIBING
            await self._subscribe(self._client)
            if self._session is not None:
                await run_hook(
                    self._session.start_streams(context),
                    address=self.address,
                    during="start streams",
                    timeout_s=self._config.subscribe_timeout_s,
                )
            self._connects += 1
            self._state = LinkState.STREAMING
            self._stream_start_count = self._notifications
            _LOG.info(
                "%s: connected, subscribed to %d characteristic(s)",
                self.name,
                len(self._subscribed),
            )
            if self._session is None:
                await self._watch()
            else:
                keep_alive = run_hook(
                    self._session.keep_alive(context), address=self.address, during="keep alive"
                )
                await watch_beside(self._watch(), keep_alive)
        except DeviceError as error:
            return self._failed(error)
        finally:
            await self._teardown()
            # Only an advertisement heard after this session ended counts as fresh: anything
            # older predates the connection (or the drop) and says nothing about range now.
            self._last_attempt_ns = self._clock_ns()
        return 0.0

    async def _connect(self, advert: Advertisement) -> LinkClient:
        try:
            async with asyncio.timeout(self._config.connect_timeout_s):
                return await self._factory(advert, disconnected=self._on_disconnected)
        except TimeoutError as exc:
            raise make_error(
                DeviceTimeoutError,
                f"connect {self.address}: no connection within {self._config.connect_timeout_s} s",
                address=self.address,
            ) from exc
        except DeviceError:
            raise
        except Exception as exc:
            raise translate_error(exc, address=self.address, during="connect") from exc

    async def _subscribe(self, client: LinkClient) -> None:
        offered = client.characteristic_uuids()
        subscribed: list[str] = []
        try:
            async with asyncio.timeout(self._config.subscribe_timeout_s):
                for uuid in self._notify_uuids:
                    if uuid not in offered:
                        continue
                    try:
                        await client.start_notify(uuid, self._handler(uuid))
                    except Exception as exc:
                        error = translate_error(exc, address=self.address, during="subscribe")
                        if not client.is_connected:
                            raise error from exc
                        _LOG.warning("%s: %s (skipping this characteristic)", self.name, error)
                        continue
                    subscribed.append(uuid)
                for uuid in self._read_uuids:
                    if uuid in offered:
                        await self._read_into_queue(client, uuid)
        except TimeoutError as exc:
            raise make_error(
                DeviceTimeoutError,
                f"subscribe {self.address}: not done within {self._config.subscribe_timeout_s} s",
                address=self.address,
            ) from exc
        if not subscribed:
            raise make_error(
                GattOperationError,
                f"subscribe {self.address}: none of the supported characteristics is offered",
                address=self.address,
            )
        self._subscribed = tuple(subscribed)

    async def _read_into_queue(self, client: LinkClient, uuid: str) -> None:
        try:
            value = await client.read(uuid)
        except Exception as exc:
            error = translate_error(exc, address=self.address, during="read")
            if not client.is_connected:
                raise error from exc
            _LOG.info("%s: %s", self.name, error)
            return
        self._handler(uuid)(bytearray(value))

    def _handler(self, uuid: str) -> NotifyHandler:
        queue = self.queue
        clock_ns = self._clock_ns

        def on_notify(data: bytearray) -> None:
            # Runs in the BLE stack's callback: timestamp and enqueue, nothing else.
            now_ns = clock_ns()
            self._last_rx_ns = now_ns
            try:
                queue.put_nowait((now_ns, uuid, bytes(data)))
            except asyncio.QueueFull:
                self._dropped += 1
            else:
                self._notifications += 1

        return on_notify

    def _on_disconnected(self) -> None:
        self._disconnected.set()

    async def _watch(self) -> None:
        """Wait until the peripheral disconnects or goes silent; then raise."""
        started_ns = self._clock_ns()
        silence_ns = int(self._config.silence_timeout_s * _NS_PER_S)
        while True:
            last_ns = max(started_ns, self._last_rx_ns or 0)
            remaining_s = (last_ns + silence_ns - self._clock_ns()) / _NS_PER_S
            if remaining_s <= 0:
                raise make_error(
                    DeviceStalledError,
                    f"{self.address}: no notification for {self._config.silence_timeout_s:.0f} s",
                    address=self.address,
                )
            if self._stopping.is_set():
                return
            client = self._client
            if client is not None and client.is_connected and self._disconnected.is_set():
                # bleak calls the disconnected callback for attempts aborted inside its own
                # connect retry loop, before the connection that succeeded: not this link.
                self._disconnected.clear()
            if client is not None and client.is_connected:
                try:
                    async with asyncio.timeout(remaining_s):
                        await self._disconnected.wait()
                except TimeoutError:
                    continue
                if self._stopping.is_set():
                    return
                if client.is_connected:
                    continue
            raise make_error(
                DeviceDisconnectedError,
                f"{self.address}: the peripheral dropped the link",
                address=self.address,
            )

    async def _teardown(self) -> None:
        client, self._client = self._client, None
        self._subscribed = ()
        if client is None:
            return
        try:
            async with asyncio.timeout(self._config.disconnect_timeout_s):
                await client.disconnect()
        except Exception as exc:
            # The link is being abandoned either way; the next session starts from scratch.
            _LOG.debug("%s: disconnect failed: %r", self.name, exc)

    # -- error bookkeeping -------------------------------------------------------------------

    def _failed(self, error: DeviceError) -> float | None:
        if self._state is LinkState.STREAMING and self._notifications > self._stream_start_count:
            self._failure_log.delivered()
        return self._failure_log.failed(error)
