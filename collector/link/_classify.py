"""Translate bleak, bleak-retry-connector and D-Bus errors into the collector's error tree, once.

This is the only module of the link layer that looks inside third-party exceptions. Everything
above it sees :class:`collector.errors.DeviceError` subclasses, each carrying an
:class:`ErrorClass` (which retry budget it draws from) and a line of advice for the log.
"""

from __future__ import annotations

import enum
from typing import Any

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakCharacteristicNotFoundError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak_retry_connector import (
    BleakAbortedError,
    BleakConnectionError,
    BleakNotFoundError,
    BleakOutOfConnectionSlotsError,
)
from dbus_fast import AuthError

from collector.errors import (
    AdapterUnavailableError,
    ConnectAbortedError,
    ConnectFailedError,
    DeviceDisconnectedError,
    DeviceError,
    DeviceNotFoundError,
    DeviceStalledError,
    DeviceTimeoutError,
    GattOperationError,
)
from collector.profiles.huami import HuamiAuthError, HuamiPairingError

__all__ = ["ErrorClass", "advice_for", "classify", "classify_kind", "make_error", "translate_error"]


class ErrorClass(enum.Enum):
    """Which retry budget and backoff curve a failure draws from."""

    TIMEOUT = "timeout"
    """A deadline expired while connecting or reading."""
    CONNECT = "connect"
    """The device refused or failed the connection."""
    TRANSIENT = "transient"
    """Radio interference, an aborted attempt or a dropped link: retry soon."""
    NOT_FOUND = "not_found"
    """The device is not advertising (off, out of range, connected elsewhere)."""
    ADAPTER = "adapter"
    """The host has no usable adapter or BlueZ is not reachable: retry slowly."""
    CREDENTIALS = "credentials"
    """The device refused the credentials the hub was paired with: no retry until re-paired."""


# BlueZ reports aborted connections with this text in the org.bluez.Error.Failed body; the same
# list bleak-retry-connector treats as transient (bleak_retry_connector.TRANSIENT_ERRORS).
_ABORT_MARKERS = ("le-connection-abort-by-local", "br-connection-canceled")
# org.freedesktop.DBus.Error.UnknownObject: BlueZ removed the device object (bleak client.py).
_UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
# D-Bus errors that mean BlueZ itself is missing or refuses us (D-Bus specification, "Message
# Bus Messages": ServiceUnknown / NameHasNoOwner / AccessDenied).
_ADAPTER_DBUS_ERRORS = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.bluez.Error.NotReady",
)

_ADVICE: dict[type[DeviceError], str] = {
    AdapterUnavailableError: (
        "check that bluetoothd is running, the adapter is powered (bluetoothctl power on) "
        "and this user may use the system D-Bus (group bluetooth)"
    ),
    DeviceNotFoundError: (
        "wake the device (wear the band, pedal the bike) and keep it within a few metres; "
        "a phone app connected to it may be holding the only connection"
    ),
    DeviceTimeoutError: (
        "move the hub closer to the device or away from Wi-Fi routers and USB 3 ports"
    ),
    ConnectAbortedError: (
        "radio interference or range; a USB extension cable for the adapter often helps"
    ),
    ConnectFailedError: "if this persists, remove the device in bluetoothctl and pair again",
    GattOperationError: "the device may need pairing or a firmware update",
    DeviceDisconnectedError: "the device went out of range or was switched off",
    DeviceStalledError: "the link was silent; reconnecting",
    HuamiAuthError: (
        "the key does not match the one the band holds: get the band's key again (huami-token "
        "for a band paired with Mi Fit / Zepp Life, or Gadgetbridge's debug screen), run "
        "`rehab collect pair ... --huami-key ADDRESS=KEY`, then restart the collector"
    ),
    HuamiPairingError: (
        "the new key is not on the band yet: wear the band, restart the collector and tap the "
        "band when it vibrates; if the band refuses the key, reset it to factory settings and "
        "run `rehab collect pair ... --huami-new-key ADDRESS` again"
    ),
}

_CLASS_OF: dict[type[DeviceError], ErrorClass] = {
    AdapterUnavailableError: ErrorClass.ADAPTER,
    DeviceNotFoundError: ErrorClass.NOT_FOUND,
    DeviceTimeoutError: ErrorClass.TIMEOUT,
    ConnectAbortedError: ErrorClass.TRANSIENT,
    ConnectFailedError: ErrorClass.CONNECT,
    GattOperationError: ErrorClass.CONNECT,
    DeviceDisconnectedError: ErrorClass.TRANSIENT,
    DeviceStalledError: ErrorClass.TRANSIENT,
    HuamiAuthError: ErrorClass.CREDENTIALS,
    HuamiPairingError: ErrorClass.CREDENTIALS,
}


def advice_for(kind: type[DeviceError]) -> str:
    """Return the one line of advice logged with a failure of this kind."""
    for klass in kind.__mro__:
        if klass in _ADVICE:
            return _ADVICE[klass]
    return "see the collector log for details"


def make_error(
    kind: type[DeviceError], message: str, *, address: str, **fields: Any
) -> DeviceError:
    """Build a device error with its address, class and advice fields (and ``fields``) filled in."""
    return kind(
        message,
        address=address,
        error_class=classify_kind(kind),
        advice=advice_for(kind),
        **fields,
    )


def classify_kind(kind: type[DeviceError]) -> ErrorClass:
    """Return the retry class of an error type (connect errors when unknown)."""
    for klass in kind.__mro__:
        if klass in _CLASS_OF:
            return _CLASS_OF[klass]
    return ErrorClass.CONNECT


def classify(error: DeviceError) -> ErrorClass:
    """Return the retry class recorded on ``error`` (or derived from its type)."""
    recorded = error.fields.get("error_class")
    if isinstance(recorded, ErrorClass):
        return recorded
    return classify_kind(type(error))


def _kind_of(exc: BaseException) -> type[DeviceError]:
    if isinstance(exc, DeviceError):
        return type(exc)
    if isinstance(exc, TimeoutError):
        return DeviceTimeoutError
    if isinstance(exc, BleakBluetoothNotAvailableError | AuthError | FileNotFoundError):
        return AdapterUnavailableError
    if isinstance(exc, ConnectionRefusedError | PermissionError):
        return AdapterUnavailableError
    if isinstance(exc, EOFError | BrokenPipeError | ConnectionResetError):
        # The D-Bus socket died under us (bleak_retry_connector.RETRYABLE_BLEAK_EXCEPTIONS).
        return ConnectAbortedError
    text = str(exc)
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in _ADAPTER_DBUS_ERRORS:
            return AdapterUnavailableError
        if exc.dbus_error == _UNKNOWN_OBJECT:
            return DeviceNotFoundError
    if isinstance(exc, BleakDeviceNotFoundError | BleakNotFoundError):
        return DeviceNotFoundError
    if isinstance(exc, BleakAbortedError | BleakOutOfConnectionSlotsError):
        return ConnectAbortedError
    if isinstance(exc, BleakCharacteristicNotFoundError | BleakGATTProtocolError):
        return GattOperationError
    if any(marker in text for marker in _ABORT_MARKERS):
        return ConnectAbortedError
    if isinstance(exc, BleakConnectionError):
        return ConnectFailedError
    if isinstance(exc, BleakError):
        if "Not connected" in text or "disconnected" in text:
            return DeviceDisconnectedError
        return ConnectFailedError
    return ConnectFailedError


def translate_error(exc: BaseException, *, address: str, during: str) -> DeviceError:
    """Translate a bleak, bleak-retry-connector, D-Bus or OS error into a :class:`DeviceError`.

    Parameters
    ----------
    exc
        The error raised by the third-party call.
    address
        Bluetooth address of the device the call was about.
    during
        What the link was doing (``"connect"``, ``"subscribe"``, ...), kept in the message.

    Returns
    -------
    DeviceError
        A subclass chosen by :func:`_kind_of`, with ``address``, ``error_class`` and ``advice``
        fields. Raise it ``from exc`` so the original stays in the traceback.
    """
    if isinstance(exc, DeviceError):
        return exc
    detail = str(exc) or type(exc).__name__
    return make_error(_kind_of(exc), f"{during} {address}: {detail}", address=address)
