"""D-Bus objects of a fake BlueZ: Adapter1, Device1, GattService1 and GattCharacteristic1.

They implement the slice of the BlueZ D-Bus API (doc/org.bluez.*.rst in the BlueZ tree) that bleak's
BlueZ backend uses: properties it reads from ``GetManagedObjects`` and ``PropertiesChanged``, and
the methods it calls (``WriteValue`` with its ``type`` option included). Behaviour (what Connect does, what StartNotify does) is delegated to a
controller so the objects stay declarative.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from dbus_fast import DBusError, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
    DBusUInt32,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

__all__ = [
    "Adapter",
    "Characteristic",
    "Controller",
    "Device",
    "GattService",
    "bluez_error",
]

READ = PropertyAccess.READ


def bluez_error(name: str, text: str) -> DBusError:
    """A D-Bus error reply as BlueZ sends it (``org.bluez.Error.<name>``, one string body)."""
    return DBusError(f"org.bluez.Error.{name}", text)


class Controller(Protocol):
    """What the objects ask their owner to do."""

    async def start_discovery(self) -> None: ...
    async def stop_discovery(self) -> None: ...
    async def connect(self, device: Device) -> None: ...
    async def disconnect(self, device: Device) -> None: ...
    def start_notify(self, char: Characteristic) -> None: ...
    def stop_notify(self, char: Characteristic) -> None: ...
    def write_value(self, char: Characteristic, value: bytes) -> None: ...


# dbus-fast reads annotations as D-Bus signatures; these aliases carry the ones without a name in
# dbus_fast.annotations. A method with no reply body declares the empty signature.
StrArray = Annotated[list[str], DBusSignature("as")]
PathArray = Annotated[list[str], DBusSignature("ao")]
VariantDict = Annotated[dict[str, Any], DBusSignature("a{sv}")]
IdVariantDict = Annotated[dict[int, Any], DBusSignature("a{qv}")]
NoReply = Annotated[None, DBusSignature("")]


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1`` at ``/org/bluez/hci0``."""

    def __init__(self, controller: Controller, *, address: str) -> None:
        super().__init__("org.bluez.Adapter1")
        self._controller = controller
        self._address = address
        self.discovering = False
        self.filter: dict[str, Any] = {}

    @dbus_property(access=READ)
    def Address(self) -> DBusStr:
        return self._address

    @dbus_property(access=READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> DBusStr:
        return "fake-bluez"

    @dbus_property(access=READ)
    def Alias(self) -> DBusStr:
        return "fake-bluez"

    @dbus_property(access=READ)
    def Class(self) -> DBusUInt32:
        return 0

    @dbus_property(access=READ)
    def Powered(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def Discoverable(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Pairable(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def Discovering(self) -> DBusBool:
        return self.discovering

    @dbus_property(access=READ)
    def UUIDs(self) -> StrArray:
        return []

    @dbus_property(access=READ)
    def Roles(self) -> StrArray:
        return ["central", "peripheral"]

    @dbus_method()
    async def StartDiscovery(self) -> NoReply:
        if self.discovering:
            raise bluez_error("InProgress", "Operation already in progress")
        await self._controller.start_discovery()

    @dbus_method()
    async def StopDiscovery(self) -> NoReply:
        if not self.discovering:
            raise bluez_error("Failed", "No discovery started")
        await self._controller.stop_discovery()

    @dbus_method()
    def SetDiscoveryFilter(self, properties: VariantDict) -> NoReply:
        self.filter = {k: v.value if isinstance(v, Variant) else v for k, v in properties.items()}

    @dbus_method()
    def GetDiscoveryFilters(self) -> StrArray:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData"]

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> NoReply:
        raise bluez_error("DoesNotExist", "Does Not Exist")


class Device(ServiceInterface):
    """``org.bluez.Device1`` at ``/org/bluez/hci0/dev_XX_XX_XX_XX_XX_XX``."""

    def __init__(
        self,
        controller: Controller,
        *,
        address: str,
        name: str,
        adapter_path: str,
        uuids: list[str],
    ) -> None:
        super().__init__("org.bluez.Device1")
        self._controller = controller
        self.address = address
        self.device_name = name  # not ``name``: ServiceInterface keeps its interface name there
        self.adapter_path = adapter_path
        self.uuids = uuids
        self.rssi = -60
        self.connected = False
        self.services_resolved = False

    @dbus_property(access=READ)
    def Address(self) -> DBusStr:
        return self.address

    @dbus_property(access=READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> DBusStr:
        return self.device_name

    @dbus_property(access=READ)
    def Alias(self) -> DBusStr:
        return self.device_name

    @dbus_property(access=READ)
    def Adapter(self) -> DBusObjectPath:
        return self.adapter_path

    @dbus_property(access=READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=READ)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(access=READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(access=READ)
    def UUIDs(self) -> StrArray:
        return self.uuids

    @dbus_property(access=READ)
    def ManufacturerData(self) -> IdVariantDict:
        return {}

    @dbus_property(access=READ)
    def ServiceData(self) -> VariantDict:
        return {}

    @dbus_method()
    async def Connect(self) -> NoReply:
        await self._controller.connect(self)

    @dbus_method()
    async def Disconnect(self) -> NoReply:
        await self._controller.disconnect(self)

    @dbus_method()
    def Pair(self) -> NoReply:
        raise bluez_error("AuthenticationFailed", "Authentication Failed")

    @dbus_method()
    def CancelPairing(self) -> NoReply:
        raise bluez_error("DoesNotExist", "Does Not Exist")


class GattService(ServiceInterface):
    """``org.bluez.GattService1`` at ``<device>/serviceXXXX``."""

    def __init__(self, *, uuid: str, device_path: str, handle: int) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid = uuid
        self.device_path = device_path
        self.handle = handle

    @dbus_property(access=READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=READ)
    def Device(self) -> DBusObjectPath:
        return self.device_path

    @dbus_property(access=READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def Includes(self) -> PathArray:
        return []

    @dbus_property(access=READ)
    def Handle(self) -> DBusUInt16:
        return self.handle


class Characteristic(ServiceInterface):
    """``org.bluez.GattCharacteristic1`` at ``<service>/charXXXX``."""

    def __init__(
        self,
        controller: Controller,
        *,
        uuid: str,
        service_path: str,
        handle: int,
        flags: list[str],
        value: bytes,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._controller = controller
        self.uuid = uuid
        self.service_path = service_path
        self.handle = handle
        self.flags = flags
        self.value = value
        self.notifying = False

    @dbus_property(access=READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=READ)
    def Service(self) -> DBusObjectPath:
        return self.service_path

    @dbus_property(access=READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=READ)
    def Flags(self) -> StrArray:
        return self.flags

    @dbus_property(access=READ)
    def MTU(self) -> DBusUInt16:
        return 247  # a typical negotiated ATT MTU (Core v5.4 Vol 3 Part F §3.2.8 allows ≤ 517)

    @dbus_property(access=READ)
    def Handle(self) -> DBusUInt16:
        return self.handle

    @dbus_method()
    def ReadValue(self, options: VariantDict) -> DBusBytes:
        if "read" not in self.flags:
            raise bluez_error("NotPermitted", "Read not permitted")
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: VariantDict) -> NoReply:
        if "write" not in self.flags and "write-without-response" not in self.flags:
            raise bluez_error("NotPermitted", "Write not permitted")
        self._controller.write_value(self, bytes(value))

    @dbus_method()
    def StartNotify(self) -> NoReply:
        if "notify" not in self.flags and "indicate" not in self.flags:
            raise bluez_error("NotSupported", "Operation is not supported")
        self._controller.start_notify(self)

    @dbus_method()
    def StopNotify(self) -> NoReply:
        self._controller.stop_notify(self)

    def push(self, value: bytes) -> None:
        """Send a notification: update ``Value`` and emit PropertiesChanged, as BlueZ does."""
        self.value = value
        self.emit_properties_changed({"Value": value})
