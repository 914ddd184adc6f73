"""Heart Rate Measurement (0x2A37) of the Heart Rate Service (0x180D).

Layout (GATT Specification Supplement, "Heart Rate Measurement"; Heart Rate Service 1.0,
"Heart Rate Measurement"), little-endian:

=====  ==========================  ======================================================
bit    meaning of the flags bit    field it controls
=====  ==========================  ======================================================
0      Heart Rate Value Format     0: uint8 bpm, 1: uint16 bpm
1      Sensor Contact Status       with bit 2 set: 0 = not detected, 1 = detected
2      Sensor Contact Supported    0: contact feature not supported (bit 1 meaningless)
3      Energy Expended Present     uint16 kJ, saturating at 0xFFFF
4      RR-Interval Present         one or more uint16, unit 1/1024 s, to the end
5–7    reserved for future use     ignored on receipt, as the Core Specification asks
=====  ==========================  ======================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from collector.errors import PayloadError
from collector.profiles._reader import Payload, Reader, bit
from collector.profiles._uuid import uuid16

__all__ = [
    "HEART_RATE_CONTROL_POINT_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "HeartRateMeasurement",
    "SensorContact",
    "parse_heart_rate_measurement",
]

HEART_RATE_SERVICE_UUID = uuid16(0x180D)  # SIG Assigned Numbers (GATT services): Heart Rate
HEART_RATE_MEASUREMENT_UUID = uuid16(0x2A37)  # SIG Assigned Numbers (characteristics)
HEART_RATE_CONTROL_POINT_UUID = uuid16(0x2A39)  # SIG Assigned Numbers (characteristics)

_NAME = "Heart Rate Measurement"
_RR_UNIT_S = 1 / 1024  # RR-Interval resolution, GATT Specification Supplement, "RR-Interval"
_RR_SIZE = 2  # each RR-Interval is a uint16, GATT Specification Supplement, "RR-Interval"


class SensorContact(enum.Enum):
    """Skin-contact status, decoded from flags bits 1–2 (tri-state)."""

    NOT_SUPPORTED = "not_supported"
    NOT_DETECTED = "not_detected"
    DETECTED = "detected"


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded Heart Rate Measurement notification.

    Attributes
    ----------
    bpm : int
        Heart rate in beats per minute (uint8 or uint16 on the wire).
    contact : SensorContact
        Whether the sensor reports skin contact. With ``NOT_DETECTED`` the ``bpm`` is not a
        physiological reading.
    energy_kj : int or None
        Cumulative energy expended in kilojoules since the sensor's last reset; ``None`` if absent.
    rr_s : tuple of float
        RR intervals in seconds, oldest first; empty if absent.
    """

    bpm: int
    contact: SensorContact
    energy_kj: int | None
    rr_s: tuple[float, ...]


def parse_heart_rate_measurement(data: Payload) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement (0x2A37) notification.

    Parameters
    ----------
    data : bytes
        The notification payload.

    Returns
    -------
    HeartRateMeasurement
        The decoded values in bpm, kJ and seconds.

    Raises
    ------
    PayloadError
        If the payload is shorter than its flags announce, carries bytes the flags do not
        announce, announces RR intervals but holds none, or ends in half an RR interval.
    """
    reader = Reader(data, characteristic=_NAME)
    flags = reader.u8("flags")
    bpm = reader.u16("heart rate (uint16)") if bit(flags, 0) else reader.u8("heart rate (uint8)")
    if not bit(flags, 2):
        contact = SensorContact.NOT_SUPPORTED
    elif bit(flags, 1):
        contact = SensorContact.DETECTED
    else:
        contact = SensorContact.NOT_DETECTED
    energy_kj = reader.u16("energy expended") if bit(flags, 3) else None
    rr_s: tuple[float, ...] = ()
    if bit(flags, 4):
        if reader.remaining == 0 or reader.remaining % _RR_SIZE:
            raise PayloadError(
                f"{_NAME}: RR-Interval flag set but {reader.remaining} byte(s) follow "
                "(expected a positive multiple of 2)",
                characteristic=_NAME,
                field="rr interval",
                offset=reader.offset,
                length=len(data),
            )
        count = reader.remaining // _RR_SIZE
        rr_s = tuple(reader.u16("rr interval") * _RR_UNIT_S for _ in range(count))
    reader.expect_end()
    return HeartRateMeasurement(bpm=bpm, contact=contact, energy_kj=energy_kj, rr_s=rr_s)
