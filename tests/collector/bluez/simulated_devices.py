"""The three simulated peripherals: a heart-rate band, an InfiniTime watch and an FTMS bike.

Payload layouts follow the GATT specifications and the vectors in
``/work/shared/data/gatt/vectors.json``.
"""

from __future__ import annotations

import struct

from tests.collector.bluez.fake_bluez import CharSpec, PeripheralSpec

__all__ = [
    "BAND",
    "BIKE",
    "INFINITIME_MOTION_SERVICE",
    "INFINITIME_STEP_COUNT",
    "WATCH",
    "full",
]


def full(short: str) -> str:
    """The 128-bit form of a 16-bit SIG UUID (Bluetooth Base UUID)."""
    return f"0000{short}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE = full("180d")
HEART_RATE_MEASUREMENT = full("2a37")
BATTERY_SERVICE = full("180f")
BATTERY_LEVEL = full("2a19")
FTMS_SERVICE = full("1826")
FTMS_FEATURE = full("2acc")
INDOOR_BIKE_DATA = full("2ad2")
INFINITIME_MOTION_SERVICE = "00030000-78fc-48fe-8e23-433b3a1942d0"
INFINITIME_STEP_COUNT = "00030001-78fc-48fe-8e23-433b3a1942d0"


def band_hr(tick: int) -> bytes:
    """HRS 2A37, flags 0x00 (uint8 bpm, contact not supported): 70–79 bpm."""
    return bytes([0x00, 70 + tick % 10])


def watch_hr(tick: int) -> bytes:
    """InfiniTime's 2A37 format (vectors.json: ``0048``): 90–94 bpm."""
    return bytes([0x00, 90 + tick % 5])


def watch_steps(tick: int) -> bytes:
    """InfiniTime step count: uint32 LE steps today, one more every fourth notification."""
    return struct.pack("<I", 1000 + tick // 4)


def bike_data(tick: int) -> bytes:
    """FTMS Indoor Bike Data, flags 0x0244: speed, cadence (0.5 rpm), power (W), heart rate."""
    speed = 2460  # 24.60 km/h in 0.01 km/h
    cadence_half_rpm = 2 * (60 + tick % 5)
    power_w = 80
    bpm = 100
    return struct.pack("<HHHhB", 0x0244, speed, cadence_half_rpm, power_w, bpm)


BAND = PeripheralSpec(
    address="C0:FF:EE:00:00:01",
    name="HRM-Band",
    advertised=(HEART_RATE_SERVICE,),
    services={
        HEART_RATE_SERVICE: (CharSpec(HEART_RATE_MEASUREMENT, ("notify",), payload=band_hr),),
        BATTERY_SERVICE: (CharSpec(BATTERY_LEVEL, ("read", "notify"), value=b"\x57"),),
    },
)

WATCH = PeripheralSpec(
    address="C0:FF:EE:00:00:02",
    name="InfiniTime",
    advertised=(HEART_RATE_SERVICE,),
    services={
        HEART_RATE_SERVICE: (CharSpec(HEART_RATE_MEASUREMENT, ("notify",), payload=watch_hr),),
        INFINITIME_MOTION_SERVICE: (
            CharSpec(
                INFINITIME_STEP_COUNT,
                ("read", "notify"),
                value=struct.pack("<I", 1000),
                payload=watch_steps,
            ),
        ),
        BATTERY_SERVICE: (CharSpec(BATTERY_LEVEL, ("read", "notify"), value=b"\x40"),),
    },
)

BIKE = PeripheralSpec(
    address="C0:FF:EE:00:00:03",
    name="FTMS-Bike",
    advertised=(FTMS_SERVICE,),
    services={
        FTMS_SERVICE: (
            CharSpec(FTMS_FEATURE, ("read",), value=bytes.fromhex("0240000000000000")),
            CharSpec(INDOOR_BIKE_DATA, ("notify",), payload=bike_data),
        ),
    },
)
