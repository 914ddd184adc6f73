"""RSC Measurement (0x2A53) of the Running Speed and Cadence Service (0x1814).

Layout (Running Speed and Cadence Service 1.0, "RSC Measurement"; GATT Specification Supplement),
little-endian: flags (uint8), instantaneous speed (uint16, 1/256 m/s), instantaneous cadence
(uint8, foot falls per minute), then the optional fields the flags announce:

=====  ===============================  ========================================
bit    meaning of the flags bit         field it controls
=====  ===============================  ========================================
0      Instantaneous Stride Length      uint16, 1/100 m
1      Total Distance Present           uint32, 1/10 m
2      Walking or Running Status        0 = walking, 1 = running (no field)
3–7    reserved for future use          ignored on receipt
=====  ===============================  ========================================
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.profiles._reader import Payload, Reader, bit
from collector.profiles._uuid import uuid16

__all__ = ["RSC_MEASUREMENT_UUID", "RSC_SERVICE_UUID", "RscMeasurement", "parse_rsc_measurement"]

RSC_SERVICE_UUID = uuid16(0x1814)  # SIG Assigned Numbers (GATT services): Running Speed and Cadence
RSC_MEASUREMENT_UUID = uuid16(0x2A53)  # SIG Assigned Numbers (characteristics): RSC Measurement

_NAME = "RSC Measurement"
_SPEED_UNIT_MPS = 1 / 256  # RSCS 1.0, "RSC Measurement": speed resolution 1/256 m/s
_STRIDE_UNIT_M = 1 / 100  # RSCS 1.0, "RSC Measurement": stride length resolution 1 cm
_DISTANCE_UNIT_M = 1 / 10  # RSCS 1.0, "RSC Measurement": total distance resolution 1 dm


@dataclass(frozen=True, slots=True)
class RscMeasurement:
    """One decoded RSC Measurement notification.

    Attributes
    ----------
    speed_mps : float
        Instantaneous speed in metres per second.
    cadence_spm : int
        Instantaneous cadence in steps (foot falls) per minute.
    stride_m : float or None
        Instantaneous stride length in metres; ``None`` if absent.
    total_distance_m : float or None
        Distance since the sensor's last reset in metres; ``None`` if absent.
    running : bool
        ``True`` if the sensor classifies the movement as running, ``False`` for walking.
    """

    speed_mps: float
    cadence_spm: int
    stride_m: float | None
    total_distance_m: float | None
    running: bool


def parse_rsc_measurement(data: Payload) -> RscMeasurement:
    """Decode an RSC Measurement (0x2A53) notification.

    Raises
    ------
    PayloadError
        If the payload length does not match what its flags announce.
    """
    reader = Reader(data, characteristic=_NAME)
    flags = reader.u8("flags")
    speed_mps = reader.u16("instantaneous speed") * _SPEED_UNIT_MPS
    cadence_spm = reader.u8("instantaneous cadence")
    stride_m = reader.u16("stride length") * _STRIDE_UNIT_M if bit(flags, 0) else None
    total_distance_m = reader.u32("total distance") * _DISTANCE_UNIT_M if bit(flags, 1) else None
    reader.expect_end()
    return RscMeasurement(
        speed_mps=speed_mps,
        cadence_spm=cadence_spm,
        stride_m=stride_m,
        total_distance_m=total_distance_m,
        running=bit(flags, 2),
    )
