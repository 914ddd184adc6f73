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
