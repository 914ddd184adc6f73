"""``rehab collect``: scan for devices, pair the hub, run the collector, show its status.

Every command takes ``--state-dir`` (or ``REHAB_COLLECTOR_DIR``): where the pairing, the outbox,
counter state and the status file live.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from collector.errors import CollectorError
from collector.hub import (
    EXIT_NOT_PAIRED,
    Hub,
    PairedDevice,
    Pairing,
    enroll,
    load_pairing,
    read_status,
    save_pairing,
    scan_nearby,
)
from collector.link import normalise_address
from collector.outbox import Outbox
from collector.profiles.huami import new_auth_key, parse_auth_key
from collector.settings import CollectorSettings

__all__ = ["app"]

app = typer.Typer(
    help="The home hub: scan, pair, run and check the Bluetooth collector.",
    no_args_is_help=True,
)
_console = Console()
_err = Console(stderr=True)
_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")  # EUI-48, colon or dash form
# A status older than this many status intervals means the collector is not running.
_STALE_STATUS_FACTOR = 3
_STATUS_INTERVAL_S = 5.0  # HubConfig.status_interval_s default
_SCAN_DEFAULT_S = 10.0  # BlueZ LE discovery cycles last about 10 s (bleak-retry-connector notes)
_HTTP_TIMEOUT_S = 30.0  # same as CollectorSettings.http_timeout_s default
# Link states that ask something of the user (collector.link.LinkState values).
_STATE_TEXT = {"confirming": "tap the band to confirm pairing"}


def _settings(ctx: typer.Context) -> CollectorSettings:
    settings = ctx.meta.get("collector_settings")
    if not isinstance(settings, CollectorSettings):
        raise typer.BadParameter("collector settings were not initialised")
    return settings


@app.callback()
def _group(
    ctx: typer.Context,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            envvar="REHAB_COLLECTOR_DIR",
            help="Where pairing, outbox and status live (default: the user's data directory).",
        ),
    ] = None,
) -> None:
    """Bluetooth collector of the home hub."""
    try:
        overrides = {} if state_dir is None else {"collector_dir": state_dir}
        ctx.meta["collector_settings"] = CollectorSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.command()
def scan(
    duration_s: Annotated[
        float, typer.Option("--duration-s", min=1.0, help="How long to listen, seconds.")
    ] = _SCAN_DEFAULT_S,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list devices with no recognised profile.")
    ] = False,
) -> None:
    """List nearby devices: name, address, signal strength and recognised profiles."""
    try:
        results = asyncio.run(scan_nearby(duration_s=duration_s, only_supported=not show_all))
    except CollectorError as exc:
        advice = exc.fields.get("advice")
        raise _fail(exc.message + (f" ({advice})" if advice else "")) from None
    table = Table("Address", "Name", "RSSI (dBm)", "Profiles")
    for r in results:
        table.add_row(r.address, r.name or "-", str(r.rssi_dbm), ", ".join(r.profiles) or "-")
    _console.print(table)
    if not results:
        _console.print("No supported device heard; wake the band or bike and scan again.")


def _parse_device(text: str) -> PairedDevice:
    address, _, name = text.partition("=")
    if not _ADDRESS.match(address.strip()):
        raise typer.BadParameter(f"{address!r} is not a Bluetooth address like AA:BB:CC:DD:EE:FF")
    normalised = normalise_address(address)
    return PairedDevice(address=normalised, name=name.strip() or normalised)


def _huami_address(option: str, text: str, paired: set[str]) -> str:
    """The paired device an ``option`` (``--huami-key``/``--huami-new-key``) is about."""
    if not _ADDRESS.match(text.strip()):
        raise typer.BadParameter(
            f"{option} wants a paired device's address; {text!r} is not a Bluetooth address"
        )
    normalised = normalise_address(text)
    if normalised not in paired:
        raise typer.BadParameter(
            f"{option} for {normalised}, which is not among the --device addresses"
        )
    return normalised


def _parse_huami_keys(texts: list[str], devices: tuple[PairedDevice, ...]) -> dict[str, bytes]:
    """``ADDRESS=KEY`` options to keys by address; every address must be a paired device."""
    paired = {d.address for d in devices}
    keys: dict[str, bytes] = {}
    for text in texts:
        address, _, key_text = text.partition("=")
        normalised = _huami_address("--huami-key", address, paired)
        try:
            keys[normalised] = parse_auth_key(key_text)
        except ValueError as exc:
            raise typer.BadParameter(f"--huami-key for {normalised}: {exc}") from None
    return keys


def _parse_huami_new_keys(
    texts: list[str], devices: tuple[PairedDevice, ...], given: dict[str, bytes]
) -> dict[str, bytes]:
    """``ADDRESS`` options to fresh random keys; never for an address with a ``--huami-key``."""
    paired = {d.address for d in devices}
    keys: dict[str, bytes] = {}
    for text in texts:
        normalised = _huami_address("--huami-new-key", text, paired)
        if normalised in given:
            raise typer.BadParameter(
                f"{normalised} has both --huami-key and --huami-new-key: give --huami-key for a "
                "band that holds a key, --huami-new-key for a reset or never-paired band"
            )
        keys.setdefault(normalised, new_auth_key())
    return keys


@app.command()
def pair(
    ctx: typer.Context,
    server: Annotated[str, typer.Option("--server", help="Base URL of the service.")],
    device: Annotated[
        list[str],
        typer.Option("--device", help="ADDRESS or ADDRESS=Name of a device to collect from."),
    ],
    enrollment_code: Annotated[
        str | None, typer.Option("--enrollment-code", help="One-time code from the care team.")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="A device token issued by the service.")
    ] = None,
    huami_key: Annotated[
        list[str] | None,
        typer.Option(
            "--huami-key",
            help="ADDRESS=KEY: the 32-hex-digit auth key of a Mi Band 2/3 among the devices.",
        ),
    ] = None,
    huami_new_key: Annotated[
        list[str] | None,
        typer.Option(
            "--huami-new-key",
            help=(
                "ADDRESS of a Mi Band 2/3 that holds no key yet (reset or never paired): a "
                "random key is written to it on the next connection; tap the band to confirm."
            ),
        ),
    ] = None,
) -> None:
    """Bind this hub and the chosen devices to a patient."""
    settings = _settings(ctx)
    if (enrollment_code is None) == (token is None):
        raise typer.BadParameter("give exactly one of --enrollment-code and --token")
    if not server.startswith(("http://", "https://")):
        raise typer.BadParameter(f"--server must be an http(s) URL, got {server!r}")
    devices = tuple({d.address: d for d in map(_parse_device, device)}.values())
    keys = _parse_huami_keys(huami_key or [], devices)
    new_keys = _parse_huami_new_keys(huami_new_key or [], devices, keys)
    devices = tuple(
        PairedDevice(
            address=d.address,
            name=d.name,
            huami_key=keys.get(d.address, new_keys.get(d.address)),
            huami_key_written=d.address not in new_keys,
        )
        for d in devices
    )
    device_id: str | None = None
    if enrollment_code is not None:

        async def _enroll() -> tuple[str, str]:
            async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_S) as client:
                return await enroll(server_url=server, code=enrollment_code, client=client)

        try:
            device_id, token = asyncio.run(_enroll())
        except CollectorError as exc:
            raise _fail(exc.message) from None
    assert token is not None
    pairing = Pairing(
        server_url=server.rstrip("/"),
        token=token,
        device_id=device_id,
        devices=devices,
        paired_at_s=time.time(),
    )
    path = save_pairing(settings.collector_dir, pairing)
    _console.print(f"Paired {len(devices)} device(s) with {pairing.server_url}; saved to {path}")
    if keys:
        _console.print(f"Mi Band auth key stored for {len(keys)} device(s) (file mode 0600)")
    if new_keys:
        _console.print(
            f"New Mi Band auth key generated for {len(new_keys)} device(s) (file mode 0600); "
            "`rehab collect run` writes it to the band on the next connection: wear the band "
            "and tap it when it vibrates"
        )


@app.command()
def run(ctx: typer.Context) -> None:
    """Collect from the paired devices and upload, until stopped (SIGTERM or Ctrl-C)."""
    settings = _settings(ctx)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    try:
        pairing = load_pairing(settings.collector_dir)
    except CollectorError as exc:
        raise _fail(exc.message, code=EXIT_NOT_PAIRED) from None  # nothing to run unpaired
    configured = settings.server_url.rstrip("/")
    if "server_url" in settings.model_fields_set and configured != pairing.server_url.rstrip("/"):
        logging.getLogger("collector.hub").warning(
            "REHAB_SERVER_URL (%s) is not used by a paired hub: uploading to %s, the server of "
            "the pairing; pair again (rehab collect pair --server) to change it",
            settings.server_url,
            pairing.server_url,
        )

    async def _main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        return await Hub(settings=settings, pairing=pairing).run(stop)

    code = asyncio.run(_main())
    if code:
        raise typer.Exit(code)


def _age(epoch_s: float | None, now_s: float) -> str:
    if epoch_s is None:
        return "never"
    when = datetime.fromtimestamp(epoch_s, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{when} ({max(0.0, now_s - epoch_s):.0f} s ago)"


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show each device's last sample, battery and connection, the outbox and the last upload."""
    settings = _settings(ctx)
    try:
        pairing = load_pairing(settings.collector_dir)
    except CollectorError as exc:
        raise _fail(exc.message) from None
    hub = read_status(settings.collector_dir)
    with Outbox(settings.outbox_path) as outbox:
        box = outbox.status()
    now_s = time.time()
    running = (
        hub is not None
        and now_s - hub.written_s < _STALE_STATUS_FACTOR * _STATUS_INTERVAL_S
        and _pid_alive(hub.pid)
    )
    by_address = {d.address: d for d in hub.devices} if hub is not None else {}
    if as_json:
        _console.print_json(
            orjson.dumps(
                {
                    "running": running,
                    "server_url": pairing.server_url,
                    "outbox_depth_samples": box.depth_samples,
                    "last_upload_s": box.last_upload_s,
                    "devices": [
                        {
                            "address": d.address,
                            "name": d.name,
                            "connected": running
                            and d.address in by_address
                            and by_address[d.address].connected,
                            "state": by_address[d.address].state
                            if d.address in by_address
                            else None,
                            "last_sample_s": by_address[d.address].last_sample_s
                            if d.address in by_address
                            else None,
                            "battery_percent": by_address[d.address].battery_percent
                            if d.address in by_address
                            else None,
                        }
                        for d in pairing.devices
                    ],
                }
            ).decode()
        )
        return
    _console.print(
        f"Collector: {'running' if running else 'not running'}  server: {pairing.server_url}"
    )
    table = Table("Device", "Address", "Connection", "Battery", "Last sample", "Last error")
    for d in pairing.devices:
        seen = by_address.get(d.address)
        connection = (
            "-"
            if seen is None
            else (
                "connected"
                if running and seen.connected
                else _STATE_TEXT.get(seen.state, seen.state)
            )
        )
        battery = (
            "-" if seen is None or seen.battery_percent is None else f"{seen.battery_percent} %"
        )
        table.add_row(
            d.name,
            d.address,
            connection if running else "not running",
            battery,
            _age(None if seen is None else seen.last_sample_s, now_s),
            "-" if seen is None or not seen.last_error else seen.last_error,
        )
    _console.print(table)
    _console.print(f"Outbox: {box.depth_samples} sample(s) waiting")
    _console.print(f"Last successful upload: {_age(box.last_upload_s, now_s)}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if __name__ == "__main__":
    app()
