"""Bluetooth UUID helpers: 16-bit SIG-assigned numbers to full 128-bit lowercase strings."""

from __future__ import annotations

import re

__all__ = ["normalise_uuid", "uuid16"]

# Bluetooth Base UUID, Core Specification v5.3, Vol 3, Part B, §2.5.1: a 16-bit assigned number
# xxxx stands for 0000xxxx-0000-1000-8000-00805f9b34fb.
_BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"
_UINT16_MAX = 0xFFFF  # a SIG-assigned short UUID is 16 bits wide
_FULL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHORT_UUID = re.compile(r"^(?:0x)?([0-9a-f]{4}|[0-9a-f]{8})$")


def uuid16(assigned_number: int) -> str:
    """Return the full 128-bit UUID string of a 16-bit SIG-assigned number.

    Parameters
    ----------
    assigned_number : int
        The 16-bit assigned number, e.g. ``0x2A37`` for Heart Rate Measurement.

    Returns
    -------
    str
        Lowercase 128-bit UUID, e.g. ``"00002a37-0000-1000-8000-00805f9b34fb"``.
    """
    if not 0 <= assigned_number <= _UINT16_MAX:
        raise ValueError(f"assigned_number must be a 16-bit value, got {assigned_number!r}")
    return f"{assigned_number:08x}{_BASE_UUID_SUFFIX}"


def normalise_uuid(text: str) -> str:
    """Turn ``"180D"``, ``"0x180d"``, ``"0000180d"`` or a full UUID into the lowercase 128-bit form.

    Raises
    ------
    ValueError
        If ``text`` is not a 16-bit, 32-bit or 128-bit UUID.
    """
    cleaned = text.strip().lower()
    if cleaned.startswith("{") and cleaned.endswith("}"):
        cleaned = cleaned[1:-1]
    if _FULL_UUID.match(cleaned):
        return cleaned
    short = _SHORT_UUID.match(cleaned)
    if short is None:
        raise ValueError(f"not a Bluetooth UUID: {text!r}")
    value = int(short.group(1), 16)
    return f"{value:08x}{_BASE_UUID_SUFFIX}"
