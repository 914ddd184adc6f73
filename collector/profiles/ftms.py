"""Fitness Machine Service (0x1826): Indoor Bike Data (0x2AD2), Treadmill Data (0x2ACD).

Both characteristics start with a uint16 flags field; every other field is optional and appears,
in table order, only when its flags bit says so (FTMS 1.0, "Treadmill Data" and §4.9 "Indoor
Bike Data"). Bit 0 is inverted: it is "More Data", and **0 means Instantaneous Speed is
present**. A record too long for one notification is split over several; every fragment but the
last has bit 0 set, and :class:`FtmsFragmentMerger` joins them.

A field a machine does not support may be sent with its "data not available" value (FTMS 1.0
field definitions: 0xFFFF for uint16, 0xFF for uint8, 0x7FFF for sint16); those decode as
``None``. A heart rate of 0 bpm, which machines without a pulse sensor send, also decodes as
``None``.

Treadmills built on the FitShow controller set the reserved bit 13 of Treadmill Data and append
a uint24 step count; it is decoded only when exactly three bytes follow the standard fields.
Bytes after the standard fields are otherwise accepted only when a reserved bit is set (their
layout is then unknown and they are ignored, as the Core Specification asks of reserved bits);
with no reserved bit set the payload must end exactly where the flags say.
"""

from __future__ import annotations

from typing import Any

from collector.profiles._ftms_fields import FieldSpec, decode_fields
from collector.profiles._ftms_merge import FtmsFragmentMerger
from collector.profiles._ftms_records import IndoorBikeData, TreadmillData
from collector.profiles._reader import Payload, Reader, bit
from collector.profiles._uuid import uuid16

__all__ = [
    "FTMS_SERVICE_UUID",
    "INDOOR_BIKE_DATA_UUID",
    "TREADMILL_DATA_UUID",
    "FtmsFragmentMerger",
    "IndoorBikeData",
    "TreadmillData",
    "parse_indoor_bike_data",
    "parse_treadmill_data",
]

FTMS_SERVICE_UUID = uuid16(0x1826)  # SIG Assigned Numbers (GATT services): Fitness Machine
TREADMILL_DATA_UUID = uuid16(0x2ACD)  # SIG Assigned Numbers (characteristics): Treadmill Data
INDOOR_BIKE_DATA_UUID = uuid16(0x2AD2)  # SIG Assigned Numbers (characteristics): Indoor Bike Data

_BIKE = "Indoor Bike Data"
_TREADMILL = "Treadmill Data"
_BIKE_RESERVED_MASK = 0xE000  # bits 13–15 are RFU in Indoor Bike Data flags (FTMS 1.0 §4.9)
_TREADMILL_RESERVED_MASK = (
    0xE000  # bits 13–15 are RFU in Treadmill Data flags (FTMS 1.0, "Treadmill Data")
)
_VENDOR_STEPS_BIT = 13  # FitShow treadmills: uint24 step count behind RFU bit 13 (vendor capture)
_VENDOR_STEPS_SIZE = 3  # the FitShow step count is a uint24

# Field tables: (flags bit, fields in wire order). Bit 0 is handled separately (inverted).
_KMH = 100  # FTMS 1.0 Treadmill/Indoor Bike Data: speed resolution 0.01 km/h
_HALF_RPM = 2  # FTMS 1.0 §4.9 Indoor Bike Data: cadence resolution 0.5 1/min
_TENTH = 10  # FTMS 1.0: inclination (%), ramp angle (°), elevation (m), pace, MET resolution 0.1

_BIKE_FIELDS: tuple[tuple[int, tuple[FieldSpec, ...]], ...] = (
    (1, (FieldSpec("average_speed_kmh", 2, per_unit=_KMH),)),
    (2, (FieldSpec("cadence_rpm", 2, per_unit=_HALF_RPM),)),
    (3, (FieldSpec("average_cadence_rpm", 2, per_unit=_HALF_RPM),)),
    (4, (FieldSpec("total_distance_m", 3),)),
    (5, (FieldSpec("resistance_level", 2, signed=True),)),
    (6, (FieldSpec("power_w", 2, signed=True),)),
    (7, (FieldSpec("average_power_w", 2, signed=True),)),
    (
        8,
        (
            FieldSpec("total_energy_kcal", 2),
            FieldSpec("energy_per_hour_kcal", 2),
            FieldSpec("energy_per_minute_kcal", 1),
        ),
    ),
    (9, (FieldSpec("bpm", 1, zero_is_absent=True),)),
    (10, (FieldSpec("met", 1, per_unit=_TENTH),)),
    (11, (FieldSpec("elapsed_s", 2),)),
    (12, (FieldSpec("remaining_s", 2),)),
)

_TREADMILL_FIELDS: tuple[tuple[int, tuple[FieldSpec, ...]], ...] = (
    (1, (FieldSpec("average_speed_kmh", 2, per_unit=_KMH),)),
    (2, (FieldSpec("total_distance_m", 3),)),
    (
        3,
        (
            FieldSpec("inclination_pct", 2, signed=True, per_unit=_TENTH),
            FieldSpec("ramp_angle_deg", 2, signed=True, per_unit=_TENTH),
        ),
    ),
    (
        4,
        (
            FieldSpec("positive_elevation_gain_m", 2, per_unit=_TENTH),
            FieldSpec("negative_elevation_gain_m", 2, per_unit=_TENTH),
        ),
    ),
    (5, (FieldSpec("pace_km_per_min", 1, per_unit=_TENTH),)),
    (6, (FieldSpec("average_pace_km_per_min", 1, per_unit=_TENTH),)),
    (
        7,
        (
            FieldSpec("total_energy_kcal", 2),
            FieldSpec("energy_per_hour_kcal", 2),
            FieldSpec("energy_per_minute_kcal", 1),
        ),
    ),
    (8, (FieldSpec("bpm", 1, zero_is_absent=True),)),
    (9, (FieldSpec("met", 1, per_unit=_TENTH),)),
    (10, (FieldSpec("elapsed_s", 2),)),
    (11, (FieldSpec("remaining_s", 2),)),
    (12, (FieldSpec("force_on_belt_n", 2, signed=True), FieldSpec("power_w", 2, signed=True))),
)

_SPEED = FieldSpec("speed_kmh", 2, per_unit=_KMH)


def _decode_common(
    reader: Reader, flags: int, table: tuple[tuple[int, tuple[FieldSpec, ...]], ...]
) -> dict[str, Any]:
    values: dict[str, Any] = {"more_data": bit(flags, 0)}
    if not bit(flags, 0):
        values.update(decode_fields(reader, (_SPEED,)))
    for flag_bit, specs in table:
        if bit(flags, flag_bit):
            values.update(decode_fields(reader, specs))
    return values


def parse_indoor_bike_data(data: Payload) -> IndoorBikeData:
    """Decode an Indoor Bike Data (0x2AD2) notification.

    Raises
    ------
    PayloadError
        If the payload is shorter than its flags announce, or longer with no reserved bit set.
    """
    reader = Reader(data, characteristic=_BIKE)
    flags = reader.u16("flags")
    values = _decode_common(reader, flags, _BIKE_FIELDS)
    if not flags & _BIKE_RESERVED_MASK:
        reader.expect_end()
    return IndoorBikeData(**values)


def parse_treadmill_data(data: Payload) -> TreadmillData:
    """Decode a Treadmill Data (0x2ACD) notification, with the vendor step count if present.

    Raises
    ------
    PayloadError
        If the payload is shorter than its flags announce, or longer with no reserved bit set.
    """
    reader = Reader(data, characteristic=_TREADMILL)
    flags = reader.u16("flags")
    values = _decode_common(reader, flags, _TREADMILL_FIELDS)
    if bit(flags, _VENDOR_STEPS_BIT) and reader.remaining == _VENDOR_STEPS_SIZE:
        values["steps"] = reader.u24("vendor step count")
    if not flags & _TREADMILL_RESERVED_MASK:
        reader.expect_end()
    return TreadmillData(**values)
