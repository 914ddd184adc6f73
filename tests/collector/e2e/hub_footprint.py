"""CPU and memory of ``rehab collect run`` serving simulated 1 Hz devices on the fake BlueZ.

``python -m tests.collector.e2e.hub_footprint [--devices 10] [--duration-s 30]`` starts a private
``dbus-daemon`` with the fake BlueZ of ``tests/collector/bluez`` (bands, InfiniTime watches and
FTMS bikes, each notifying once a second), ``rehab serve`` on a scratch database, and a real
``rehab collect run`` paired with every device; once all are connected it measures the collector
process with :func:`service.bench.collector.measure_process` (``/proc/<pid>/stat`` and
``status``), the same code as ``rehab bench collector --pid``. The database server is
``REHAB_DATABASE_URL`` or ``REHAB_TEST_DATABASE_URL``; without either an embedded PostgreSQL
starts in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from collector.hub import PairedDevice, Pairing, save_pairing
from collector.outbox import Outbox
from service.bench.collector import measure_process, print_footprint
from service.bench.scratch import scratch_database
from service.db import start_embedded
from tests.collector.bluez.fake_bluez import FakeBlueZ, PeripheralSpec
from tests.collector.bluez.private_bus import private_dbus_daemon
from tests.collector.bluez.simulated_devices import BAND, BIKE, WATCH
from tests.collector.e2e.clinic import enrol_hub, stored_rows
from tests.collector.e2e.service_process import REHAB, ServiceProcess, rehab_env

__all__ = ["main", "simulated_devices"]

_NOTIFY_INTERVAL_S = 1.0  # a real band's heart-rate rate (HRS 1.0 §3.1 typical)
_ADVERTISE_INTERVAL_S = 0.1  # fast advertising while unconnected, so all connect quickly
# Partial batches are sent after 10 s instead of the hub's 60 s, so uploads fall inside the
# measured window: the figures are an upper bound of a real hub's (tunable default).
_BATCH_MAX_AGE_S = "10"
_CONNECT_LIMIT_S = 120.0  # ten sequential connects with bleak's service discovery; tunable default
_WARM_UP_S = 3.0  # let the first subscriptions and battery reads settle; tunable default


def simulated_devices(n_devices: int) -> list[PeripheralSpec]:
    """``n_devices`` peripherals cycling through band, watch and bike, each with its own address."""
    templates = (BAND, WATCH, BIKE)
    return [
        dataclasses.replace(
            templates[i % 3],
            address=f"C0:FF:EE:00:10:{i:02X}",
            name=f"{templates[i % 3].name}-{i}",
        )
        for i in range(n_devices)
    ]


@contextlib.contextmanager
def _database_server() -> Iterator[str]:
    url = os.environ.get("REHAB_DATABASE_URL") or os.environ.get("REHAB_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Not under /root: run as root, the embedded server makes every ancestor traversable.
    with tempfile.TemporaryDirectory(prefix="rehab-footprint-pg-", dir="/var/tmp") as tmp:
        yield start_embedded(Path(tmp))


# How the collector is started: the ``rehab`` console script, or its module alone (which does not
# import the service's packages, as the systemd unit runs it).
_COMMANDS = {
    "rehab": (str(REHAB), "collect", "run"),
    "module": (sys.executable, "-m", "collector.cli.collect", "run"),
}


async def _measure(
    console: Console,
    *,
    n_devices: int,
    duration_s: float,
    work: Path,
    command: str,
    rehab: Path | None = None,
) -> int:
    argv = (str(rehab), "collect", "run") if rehab else _COMMANDS[command]
    devices = simulated_devices(n_devices)
    with (
        _database_server() as server_url,
        scratch_database(server_url) as db_url,
        private_dbus_daemon(work) as bus_address,
    ):
        service = ServiceProcess(db_url=db_url, log_path=work / "serve.log")
        await asyncio.to_thread(service.start)
        bluez = FakeBlueZ(
            advertise_interval_s=_ADVERTISE_INTERVAL_S, notify_interval_s=_NOTIFY_INTERVAL_S
        )
        await bluez.start(bus_address)
        hub = await enrol_hub(db_url)
        state_dir = work / "hub"
        save_pairing(
            state_dir,
            Pairing(
                server_url=service.url,
                token=hub.token,
                device_id=str(hub.device_id),
                devices=tuple(PairedDevice(address=d.address, name=d.name) for d in devices),
                paired_at_s=time.time(),
            ),
        )
        for spec in devices:
            bluez.add(spec)
        env = rehab_env(
            REHAB_COLLECTOR_DIR=str(state_dir),
            REHAB_BATCH_MAX_AGE_S=_BATCH_MAX_AGE_S,
            DBUS_SYSTEM_BUS_ADDRESS=bus_address,
        )
        log_path = work / "collect.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + _CONNECT_LIMIT_S
            while not all(p.device.connected for p in bluez.peripherals.values()):
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError(
                        f"not every device connected: {log_path.read_text()[-3000:]}"
                    )
                await asyncio.sleep(0.2)
            await asyncio.sleep(_WARM_UP_S)
            sent_before = sum(p.notifications for p in bluez.peripherals.values())
            footprint = await asyncio.to_thread(measure_process, process.pid, duration_s=duration_s)
            sent = sum(p.notifications for p in bluez.peripherals.values()) - sent_before
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=60)
            await bluez.stop()
        stored = sum((await stored_rows(db_url, hub.device_id)).values())
        with Outbox(state_dir / "outbox.sqlite3") as outbox:
            waiting = outbox.status().depth_samples
        await asyncio.to_thread(service.stop)
    print_footprint(console, footprint, what=f"{' '.join(argv[-3:])}, {n_devices} devices at 1 Hz")
    console.print(
        f"{sent} notifications during the window ({sent / footprint.duration_s:.1f}/s); at the "
        f"end {stored} samples in PostgreSQL and {waiting} in the outbox (a partial batch younger "
        f"than {_BATCH_MAX_AGE_S} s waits for the next start); collector exit code {code}"
    )
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, measure, print; return the collector's exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--command", choices=sorted(_COMMANDS), default="rehab")
    parser.add_argument(
        "--rehab",
        type=Path,
        help="the rehab console script to start instead, e.g. a hub-only install's"
        " (python3 -m venv hub && hub/bin/pip install .)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rehab-footprint-") as tmp:
        return asyncio.run(
            _measure(
                Console(),
                n_devices=args.devices,
                duration_s=args.duration_s,
                work=Path(tmp),
                command=args.command,
                rehab=args.rehab,
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
