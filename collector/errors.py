"""The collector's exception tree: one base, structured fields, third-party errors translated once."""

from __future__ import annotations

from typing import Any


class CollectorError(Exception):
    """Base of every error the collector raises on purpose."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class PayloadError(CollectorError, ValueError):
    """A GATT notification payload is malformed (length does not match its flags, bad value)."""


class OutboxError(CollectorError):
    """The durable outbox could not be opened or written."""


class UploadError(CollectorError):
    """The service could not be reached or answered with an error."""


class BatchRejectedError(UploadError):
    """The service refused a batch with a 4xx; the batch is quarantined with the reason."""


class PairingError(CollectorError):
    """Pairing with the service or a device failed."""


class DeviceError(CollectorError):
    """A Bluetooth device could not be found, connected or read."""


class AdapterUnavailableError(DeviceError):
    """No usable Bluetooth adapter: none present, powered off, or BlueZ/D-Bus not reachable."""


class DeviceNotFoundError(DeviceError):
    """The device did not advertise within the wait, or BlueZ no longer knows it."""


class DeviceTimeoutError(DeviceError):
    """Connecting or a GATT operation did not finish within its deadline."""


class ConnectAbortedError(DeviceError):
    """The link layer aborted the connection attempt (``le-connection-abort-by-local``)."""


class ConnectFailedError(DeviceError):
    """The device refused or failed the connection for another reason."""


class GattOperationError(DeviceError):
    """Reading a characteristic or subscribing to its notifications failed."""


class DeviceDisconnectedError(DeviceError):
    """The peripheral dropped an established link."""


class DeviceStalledError(DeviceError):
    """The link looked connected but no notification arrived within the watchdog period."""
