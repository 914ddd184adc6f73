"""CSC Measurement (0x2A5B) of the Cycling Speed and Cadence Service (0x1816).

Layout (Cycling Speed and Cadence Service 1.0, "CSC Measurement"; GATT Specification Supplement),
little-endian: flags (uint8), then the fields the flags announce:

=====  ==============================  ===============================================
bit    meaning of the flags bit        fields it controls
=====  ==============================  ===============================================
0      Wheel Revolution Data Present   cumulative wheel revs (uint32), last wheel event
                                       time (uint16, 1/1024 s)
1      Crank Revolution Data Present   cumulative crank revs (uint16), last crank event
                                       time (uint16, 1/1024 s)
2–7    reserved for future use         ignored on receipt
=====  ==============================  ===============================================

Event times are free-running and roll over every 64 s; cumulative crank revolutions roll over at
65 536. :func:`crank_cadence_rpm` derives cadence from two measurements with that arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.profiles._reader import Payload, Reader, bit
from collector.profiles._uuid import uuid16

__all__ = [
    "CSC_MEASUREMENT_UUID",
    "CSC_SERVICE_UUID",
    "EVENT_TIME_UNIT_S",
    "CscMeasurement",
    "crank_cadence_rpm",
    "parse_csc_measurement",
]

CSC_SERVICE_UUID = uuid16(0x1816)  # SIG Assigned Numbers (GATT services): Cycling Speed and Cadence
CSC_MEASUREMENT_UUID = uuid16(0x2A5B)  # SIG Assigned Numbers (characteristics): CSC Measurement

EVENT_TIME_UNIT_S = 1 / 1024  # CSCS 1.0, "CSC Measurement": event time resolution 1/1024 s

_NAME = "CSC Measurement"
_UINT16_MODULUS = 0x10000  # crank revs and event times are uint16 (CSCS 1.0, "CSC Measurement")
_SECONDS_PER_MINUTE = 60.0  # rpm = revolutions per 60 s


@dataclass(frozen=True, slots=True)
class CscMeasurement:
    """One decoded CSC Measurement notification.

    Attributes
    ----------
    wheel_revs : int or None
        Cumulative wheel revolutions (uint32); ``None`` if absent.
    wheel_event_s : float or None
        Time of the last wheel revolution event in seconds, modulo 64 s; ``None`` if absent.
    crank_revs : int or None
        Cumulative crank revolutions (uint16, rolls over); ``None`` if absent.
    crank_event_s : float or None
        Time of the last crank revolution event in seconds, modulo 64 s; ``None`` if absent.
    """

    wheel_revs: int | None
    wheel_event_s: float | None
    crank_revs: int | None
    crank_event_s: float | None


def parse_csc_measurement(data: Payload) -> CscMeasurement:
    """Decode a CSC Measurement (0x2A5B) notification.

    Raises
    ------
    PayloadError
        If the payload length does not match what its flags announce.
    """
    reader = Reader(data, characteristic=_NAME)
    flags = reader.u8("flags")
    wheel_revs: int | None = None
    wheel_event_s: float | None = None
    crank_revs: int | None = None
    crank_event_s: float | None = None
    if bit(flags, 0):
        wheel_revs = reader.u32("cumulative wheel revolutions")
        wheel_event_s = reader.u16("last wheel event time") * EVENT_TIME_UNIT_S
    if bit(flags, 1):
        crank_revs = reader.u16("cumulative crank revolutions")
        crank_event_s = reader.u16("last crank event time") * EVENT_TIME_UNIT_S
    reader.expect_end()
    return CscMeasurement(
        wheel_revs=wheel_revs,
        wheel_event_s=wheel_event_s,
        crank_revs=crank_revs,
        crank_event_s=crank_event_s,
    )


def _ticks(event_s: float) -> int:
    """Convert an event time in seconds back to its 1/1024 s wire value."""
    return round(event_s / EVENT_TIME_UNIT_S) % _UINT16_MODULUS


def crank_cadence_rpm(
    *, revs_before: int, event_before_s: float, revs_after: int, event_after_s: float
) -> float | None:
    """Derive crank cadence from two consecutive crank revolution data points.

    Both the revolution count and the event time are uint16 on the wire, so both differences are
    taken modulo 65 536: ``dt = (t2 - t1) & 0xFFFF`` in 1/1024 s (CSCS 1.0, "CSC
    Measurement"). A repeated event (``dt == 0``) means no crank revolution happened since the
    previous notification; the cadence is then undefined and ``None`` is returned rather than a
    division by zero.

    Parameters
    ----------
    revs_before, revs_after : int
        Cumulative crank revolutions of the earlier and the later measurement.
    event_before_s, event_after_s : float
        Last crank event times in seconds (as decoded, modulo 64 s).

    Returns
    -------
    float or None
        Cadence in revolutions per minute, or ``None`` for a repeated event.
    """
    dt_ticks = (_ticks(event_after_s) - _ticks(event_before_s)) % _UINT16_MODULUS  # & 0xFFFF
    if dt_ticks == 0:
        return None
    revs = (revs_after - revs_before) % _UINT16_MODULUS
    return revs * _SECONDS_PER_MINUTE / (dt_ticks * EVENT_TIME_UNIT_S)
