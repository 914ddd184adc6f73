"""``rehab collect run``: scanner, one link per paired device, consumers, uploader, status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from collector.errors import DeviceError, OutboxError, PairingError, UploadError
from collector.hub._decode import NotificationDecoder
from collector.hub._pairing import (
    PairedDevice,
    Pairing,
    ensure_private_dir,
    record_huami_key_written,
)
from collector.hub._status import DeviceStatus, HubStatus, write_status
from collector.link import (
    Advertisement,
    AdvertisementBoard,
    BleakClientFactory,
    BleakScannerSource,
    ClientFactory,
    ClockAnchor,
    DeviceLink,
    HuamiSession,
    LinkConfig,
    close_stale_connection,
)
from collector.outbox import Outbox
from collector.profiles import PROFILES
from collector.profiles.battery import BATTERY_LEVEL_UUID
from collector.profiles.huami import HR_KEEPALIVE_INTERVAL_S, PAIRING_TAP_TIMEOUT_S
from collector.settings import CollectorSettings
from collector.upload import Uploader

__all__ = ["EXIT_NOT_PAIRED", "Hub", "HubConfig", "ScannerLike"]

_LOG = logging.getLogger("collector.hub")

# EX_CONFIG (sysexits.h): no pairing, or the service refused the token; pair again. The systemd
# unit does not restart after it (deploy/systemd/rehab-collector.service).
EXIT_NOT_PAIRED = 78
COUNTERS_FILE = "counters.json"
_CONSUME_BATCH = 1000  # notifications decoded per outbox write at most; tunable default
_NS_PER_S = 1_000_000_000  # nanoseconds per second (SI)


class ScannerLike(Protocol):
    """The long-lived scanner the hub starts once (``BleakScannerSource`` in production)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HubConfig:
    """Timing of the hub's own loops (the links have :class:`LinkConfig`)."""

    link: LinkConfig = field(default_factory=LinkConfig)
    # The status view is for people; a few seconds of lag is fine; tunable default.
    status_interval_s: float = 5.0
    # Persisting counters each minute bounds what a power cut can double-count; tunable default.
    counter_save_interval_s: float = 60.0
    # How often the uploader looks for a full or aged batch; tunable default.
    upload_poll_s: float = 5.0
    # How long to wait before trying the adapter again when scanning cannot start; tunable default.
    scanner_retry_s: float = 15.0
    # Grace for the uploader to finish a request at shutdown; tunable default.
    shutdown_grace_s: float = 10.0
    # Heart-rate ping of Huami bands (collector.profiles.huami.HR_KEEPALIVE_INTERVAL_S).
    huami_keepalive_s: float = HR_KEEPALIVE_INTERVAL_S
    # First pairing of a Huami band: wait for the tap (collector.profiles.huami).
    huami_tap_timeout_s: float = PAIRING_TAP_TIMEOUT_S


class Hub:
    """Everything ``rehab collect run`` runs, wired together; :meth:`run` until ``stop`` is set.

    Parameters
    ----------
    settings
        The collector settings (state directory, batch limits, HTTP timeout).
    pairing
        Server, token and devices from ``rehab collect pair``.
    client_factory, scanner_factory
        The BLE stack; bleak and bleak-retry-connector unless tests inject fakes.
    http_client
        HTTP client for the uploader; one is created (and closed) when not given.
    """

    def __init__(
        self,
        *,
        settings: CollectorSettings,
        pairing: Pairing,
        config: HubConfig | None = None,
        client_factory: ClientFactory | None = None,
        scanner_factory: Callable[[Callable[[Advertisement], None]], ScannerLike] | None = None,
        http_client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._pairing = pairing
        self._config = config or HubConfig()
        self._production = client_factory is None
        self._factory: ClientFactory = client_factory or BleakClientFactory()
        self._scanner_factory = scanner_factory or (
            lambda on_advert: BleakScannerSource(on_advertisement=on_advert)
        )
        self._http = http_client
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._state_dir = settings.collector_dir
        self._board = AdvertisementBoard()
        self._anchor = ClockAnchor.now()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._links: dict[str, DeviceLink] = {}
        self._link_tasks: list[asyncio.Task[None]] = []
        self._decoders: dict[str, NotificationDecoder] = {}
        # Every paired device uploads under the one token: no two samples may share a key.
        self._exit_code = 0

    # -- public ------------------------------------------------------------------------------

    @property
    def links(self) -> dict[str, DeviceLink]:
        """The running links by address."""
        return self._links

    async def run(self, stop: asyncio.Event) -> int:
        """Collect until ``stop`` is set; return the process exit code."""
        ensure_private_dir(self._state_dir)
        outbox = Outbox(
            self._settings.outbox_path, capacity_samples=self._settings.outbox_capacity_samples
        )
        own_http = self._http is None
        http = self._http or httpx.AsyncClient(timeout=self._settings.http_timeout_s)
        scanner = self._scanner_factory(self._board.offer)
        saved = self._load_counters()
        try:
            await self._start_scanner(scanner, stop)
            if stop.is_set():
                return self._exit_code
            # Each paired device gets its own sensor number (1, 2, … in pairing order): samples
            # of two devices in the same millisecond are then different samples to the service.
            for sensor, device in enumerate(self._pairing.devices, start=1):
                await self._start_device(device, sensor, outbox, saved.get(device.address))
            uploader = Uploader(
                outbox=outbox,
                client=http,
                server_url=self._pairing.server_url,
                device_token=self._pairing.token,
                max_samples=self._settings.batch_max_samples,
                max_bytes=self._settings.batch_max_bytes,
                max_age_s=self._settings.batch_max_age_s,
                rng=self._rng,
            )
            # Poll at least as often as a batch may age, so none waits longer than it should.
            poll_s = min(self._config.upload_poll_s, self._settings.batch_max_age_s)
            upload_task = self._spawn(self._upload(uploader, stop, poll_s=poll_s))
            self._spawn(self._keep_status(outbox, stop))
            await stop.wait()
            await self._shutdown(upload_task, outbox)
        finally:
            await scanner.stop()
            self._save_counters()
            with contextlib.suppress(OutboxError):
                self._write_status(outbox)
            outbox.close()
            if own_http:
                await http.aclose()
        return self._exit_code

    # -- pieces ------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _start_scanner(self, scanner: ScannerLike, stop: asyncio.Event) -> None:
        warned = False
        while not stop.is_set():
            try:
                await scanner.start()
            except DeviceError as error:
                log = _LOG.debug if warned else _LOG.error
                log("cannot scan: %s - %s", error.message, error.fields.get("advice", ""))
                warned = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._config.scanner_retry_s)
                continue
            _LOG.info("scanning for %d paired device(s)", len(self._pairing.devices))
            return

    async def _start_device(
        self, device: PairedDevice, sensor: int, outbox: Outbox, counters: dict[str, Any] | None
    ) -> None:
        if self._production:
            await close_stale_connection(device.address)
        # A band paired with a Huami key is authenticated on each connection, which also
        # opens its realtime steps; any other device gets the profiles that need no handshake.
        session = None
        if device.huami_key is not None:
            key = device.huami_key

            async def key_written() -> None:
                await self._record_key_written(device.address, key)

            session = HuamiSession(
                key=key,
                key_on_band=device.huami_key_written,
                on_key_written=key_written,
                tap_timeout_s=self._config.huami_tap_timeout_s,
                keepalive_interval_s=self._config.huami_keepalive_s,
            )
        link = DeviceLink(
            address=device.address,
            name=device.name,
            advertisements=self._board,
            client_factory=self._factory,
            notify_uuids=[p.characteristic_uuid for p in PROFILES if p.auth is None],
            read_uuids=[BATTERY_LEVEL_UUID],
            config=self._config.link,
            rng=random.Random(self._rng.random()),  # noqa: S311 - jitter, not secrets
            session=session,
        )
        address = device.address

        def steps_counted_elsewhere() -> bool:
            return any(d.counts_steps_today for a, d in self._decoders.items() if a != address)

        decoder = NotificationDecoder(
            anchor=self._anchor,
            sensor=sensor,
            counters=counters,
            steps_counted_elsewhere=steps_counted_elsewhere,
        )
        self._links[link.address] = link
        self._decoders[link.address] = decoder
        self._link_tasks.append(self._spawn(link.run()))
        self._spawn(self._consume(link, decoder, outbox))

    async def _record_key_written(self, address: str, key: bytes) -> None:
        """A band took its new key: later runs authenticate without writing it again."""
        try:
            await asyncio.to_thread(
                record_huami_key_written, self._state_dir, address=address, key=key
            )
        except (OSError, PairingError) as exc:
            _LOG.error(
                "%s: could not record that the band holds its new key (%s); after a restart it "
                "will ask to be tapped again",
                address,
                exc,
            )

    async def _consume(
        self, link: DeviceLink, decoder: NotificationDecoder, outbox: Outbox
    ) -> None:
        connects = 0
        while True:
            items = [await link.queue.get()]
            while len(items) < _CONSUME_BATCH and not link.queue.empty():
                items.append(link.queue.get_nowait())
            await self._store(link, decoder, outbox, items, connects)
            connects = link.snapshot().connects

    async def _store(
        self,
        link: DeviceLink,
        decoder: NotificationDecoder,
        outbox: Outbox,
        items: list[tuple[int, str, bytes]],
        connects_before: int,
    ) -> None:
        if link.snapshot().connects != connects_before:
            decoder.reset_link()
        samples = [sample for item in items for sample in decoder.decode(item)]
        if not samples:
            return
        try:
            await asyncio.to_thread(outbox.append, samples)
        except OutboxError as exc:
            _LOG.error(
                "%s: %d sample(s) lost, the outbox refused them: %s", link.name, len(samples), exc
            )

    async def _upload(self, uploader: Uploader, stop: asyncio.Event, *, poll_s: float) -> None:
        try:
            await uploader.run(stop, poll_s=poll_s)
        except UploadError as exc:
            _LOG.error("%s; run `rehab collect pair` again, then restart the collector", exc)
            self._exit_code = EXIT_NOT_PAIRED
            stop.set()

    async def _keep_status(self, outbox: Outbox, stop: asyncio.Event) -> None:
        next_save = time.monotonic() + self._config.counter_save_interval_s
        while not stop.is_set():
            try:
                await asyncio.to_thread(self._write_status, outbox)
            except (OSError, OutboxError) as exc:
                _LOG.warning("could not write the status file: %s", exc)
            if time.monotonic() >= next_save:
                self._save_counters()
                next_save = time.monotonic() + self._config.counter_save_interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._config.status_interval_s)

    async def _shutdown(self, upload_task: asyncio.Task[Any], outbox: Outbox) -> None:
        for link in self._links.values():
            link.stop()
        link_grace_s = self._config.link.disconnect_timeout_s + 1.0  # one disconnect, then go
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*self._link_tasks, return_exceptions=True), timeout=link_grace_s
            )
        # Whatever the callbacks queued before the links stopped still goes to the outbox.
        for address, link in self._links.items():
            items = []
            while not link.queue.empty():
                items.append(link.queue.get_nowait())
            if items:
                await self._store(link, self._decoders[address], outbox, items, -1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(upload_task), timeout=self._config.shutdown_grace_s
            )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- persisted state ---------------------------------------------------------------------

    def _write_status(self, outbox: Outbox) -> None:
        devices = []
        for address, link in self._links.items():
            snap = link.snapshot()
            stats = self._decoders[address].stats()
            devices.append(
                DeviceStatus(
                    address=address,
                    name=snap.name,
                    state=snap.state.value,
                    connected=snap.connected,
                    last_sample_s=stats.last_sample_s,
                    battery_percent=stats.battery_percent,
                    connects=snap.connects,
                    failures=snap.failures,
                    notifications=snap.notifications,
                    dropped=snap.dropped,
                    last_error=snap.last_error,
                )
            )
        status = HubStatus.with_outbox(
            written_s=time.time(), devices=tuple(devices), outbox=outbox.status()
        )
        write_status(self._state_dir, status)

    def _counters_path(self) -> Path:
        return self._state_dir / COUNTERS_FILE

    def _load_counters(self) -> dict[str, dict[str, Any]]:
        try:
            data = orjson.loads(self._counters_path().read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError as exc:
            _LOG.warning("ignoring damaged %s: %s", self._counters_path(), exc)
            return {}
        return data if isinstance(data, dict) else {}

    def _save_counters(self) -> None:
        if not self._decoders:
            return
        state = {address: d.counter_state() for address, d in self._decoders.items()}
        temporary = self._counters_path().with_suffix(".tmp")
        try:
            temporary.write_bytes(orjson.dumps(state))
            os.replace(temporary, self._counters_path())
        except OSError as exc:
            _LOG.warning("could not save counter state: %s", exc)
