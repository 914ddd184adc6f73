"""Canary: fails loudly when a bleak or bleak-retry-connector internal the collector relies on moves.

The link layer and the fake BlueZ depend on these details of bleak's BlueZ backend; a bleak upgrade
that changes one of them must be looked at, not discovered in a patient's home.
"""

from __future__ import annotations

import inspect

import bleak_retry_connector
from bleak import BleakScanner
from bleak.backends.bluezdbus import defs
from bleak.backends.bluezdbus.client import BleakClientBlueZDBus
from bleak.backends.bluezdbus.manager import BlueZManager
from bleak.backends.bluezdbus.utils import device_path_from_characteristic_path

from tests.collector.bluez.fake_bluez import FakeBlueZ
from tests.collector.bluez.simulated_devices import BAND


def test_bluez_names_bleak_talks_to() -> None:
    assert defs.BLUEZ_SERVICE == "org.bluez"
    assert defs.ADAPTER_INTERFACE == "org.bluez.Adapter1"
    assert defs.DEVICE_INTERFACE == "org.bluez.Device1"
    assert defs.GATT_SERVICE_INTERFACE == "org.bluez.GattService1"
    assert defs.GATT_CHARACTERISTIC_INTERFACE == "org.bluez.GattCharacteristic1"
    assert defs.OBJECT_MANAGER_INTERFACE == "org.freedesktop.DBus.ObjectManager"


def test_characteristic_paths_are_sliced_as_the_fake_builds_them() -> None:
    # bleak cuts "/serviceXXXX/charYYYY" (21 characters) off a characteristic path.
    path = "/org/bluez/hci0/dev_C0_FF_EE_00_00_01/service000c/char000d"
    assert device_path_from_characteristic_path(path) == "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"


def test_connect_retries_le_connection_abort_and_calls_back_per_attempt() -> None:
    # DeviceLink ignores disconnected callbacks fired for attempts bleak aborted and retried
    # internally; that relies on this retry loop.
    source = inspect.getsource(BleakClientBlueZDBus.connect)
    assert "le-connection-abort-by-local" in source
    assert "local_disconnect_monitor_event.wait()" in source
    assert "manager.is_connected(self._device_path)" in source


def test_notifications_use_start_notify_and_value_properties_changed() -> None:
    assert 'bluez.get("use_start_notify", True)' in inspect.getsource(
        BleakClientBlueZDBus.start_notify
    )
    parse = inspect.getsource(BlueZManager._parse_msg)
    assert '"Value" in changed' in parse
    # Every Device1 property change reaches scanner callbacks, hence the collector's own
    # advertisement filter (collector.link._bleak.BleakScannerSource).
    assert "_run_advertisement_callbacks" in parse


def test_establish_connection_keeps_the_arguments_the_factory_passes() -> None:
    params = inspect.signature(bleak_retry_connector.establish_connection).parameters
    for name in ("client_class", "device", "name", "disconnected_callback", "max_attempts"):
        assert name in params
    assert bleak_retry_connector.MAX_CONNECT_ATTEMPTS == 4
    assert "le-connection-abort-by-local" in bleak_retry_connector.TRANSIENT_ERRORS


async def test_advertisement_platform_data_is_path_and_device_properties(bluez: FakeBlueZ) -> None:
    bluez.add(BAND)
    found = await BleakScanner.discover(timeout=0.3, return_adv=True)
    _, adv = found[BAND.address]
    path, props = adv.platform_data
    assert path.endswith("dev_C0_FF_EE_00_00_01")
    assert props["Connected"] is False
    assert props["Address"] == BAND.address
