"""Battery Level (0x2A19) of the Battery Service (0x180F): one uint8 percentage."""

from __future__ import annotations

from dataclasses import dataclass

from collector.errors import PayloadError
from collector.profiles._reader import Payload, Reader
from collector.profiles._uuid import uuid16

__all__ = ["BATTERY_LEVEL_UUID", "BATTERY_SERVICE_UUID", "BatteryLevel", "parse_battery_level"]

BATTERY_SERVICE_UUID = uuid16(0x180F)  # SIG Assigned Numbers (GATT services): Battery
BATTERY_LEVEL_UUID = uuid16(0x2A19)  # SIG Assigned Numbers (characteristics): Battery Level

_NAME = "Battery Level"
_MAX_PERCENT = 100  # values 101–255 are prohibited, GATT Specification Supplement, "Battery Level"


@dataclass(frozen=True, slots=True)
class BatteryLevel:
    """Remaining battery charge.

    Attributes
    ----------
    percent : int
        Charge in percent of full, 0–100.
    """

    percent: int


def parse_battery_level(data: Payload) -> BatteryLevel:
    """Decode a Battery Level (0x2A19) read or notification.

    Raises
    ------
    PayloadError
        If the payload is not exactly one byte or the value is above 100 %.
    """
    reader = Reader(data, characteristic=_NAME)
    percent = reader.u8("battery level")
    reader.expect_end()
    if percent > _MAX_PERCENT:
        raise PayloadError(
            f"{_NAME}: {percent} % is outside 0–100",
            characteristic=_NAME,
            field="battery level",
            value=percent,
        )
    return BatteryLevel(percent=percent)
