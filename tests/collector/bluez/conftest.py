"""Fixtures: a private dbus-daemon per session with a fake BlueZ owning ``org.bluez`` on it, and
a real ``rehab serve`` for the end-to-end tests of ``rehab collect run``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.private_bus import DBUS_DAEMON, private_dbus_daemon
from tests.collector.e2e.service_process import ServiceProcess

if DBUS_DAEMON is None:
    raise pytest.UsageError("tests/collector/bluez needs dbus-daemon (apt-get install dbus-daemon)")

# Simulation pace: ten times faster than a real band (1 Hz) keeps every test to seconds.
ADVERTISE_INTERVAL_S = 0.05
NOTIFY_INTERVAL_S = 0.1


@pytest.fixture(scope="session")
def system_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private bus, exported as the system bus for bleak in this process and its children."""
    directory: Path = tmp_path_factory.mktemp("dbus")
    with private_dbus_daemon(directory) as address:
        previous = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
        try:
            yield address
        finally:
            if previous is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = previous


@pytest.fixture(scope="session")
async def bluez_daemon(system_bus: str) -> AsyncIterator[FakeBlueZ]:
    fake = FakeBlueZ(advertise_interval_s=ADVERTISE_INTERVAL_S, notify_interval_s=NOTIFY_INTERVAL_S)
    await fake.start(system_bus)
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def bluez(bluez_daemon: FakeBlueZ) -> Iterator[FakeBlueZ]:
    """The fake BlueZ with no peripherals; whatever a test adds is removed afterwards."""
    bluez_daemon.reset()
    yield bluez_daemon
    bluez_daemon.reset()


@pytest.fixture
async def service(db_url: str, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    """``rehab serve`` on the test database, stopped after the test."""
    process = ServiceProcess(db_url=db_url, log_path=tmp_path / "serve.log")
    await asyncio.to_thread(process.start)
    try:
        yield process
    finally:
        if process.running:
            await asyncio.to_thread(process.stop)
