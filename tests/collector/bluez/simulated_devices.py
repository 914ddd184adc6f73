"""Simulated peripherals: a heart-rate band, an InfiniTime watch, an FTMS bike, Mi Bands 2 and 3.

Payload layouts follow the GATT specifications and the vectors in
``tests/fixtures/gatt/vectors.json``. The Mi Bands run
:class:`tests.collector.link.fake_miband.MiBandFirmware`: nothing streams until the AES
handshake succeeded, heart rate only after the control point's start command; a factory-fresh
band first takes a key written to it once the wearer tapped it.
"""

from __future__ import annotations

import struct

from tests.collector.bluez.fake_bluez import CharSpec, PeripheralSpec
from tests.collector.link.fake_miband import (
    AUTH,
    HR_CONTROL_POINT,
    KEY,
    REALTIME_STEPS,
    BandMemory,
    MiBandFirmware,
    steps_payload,
)

__all__ = [
    "BAND",
    "BIKE",
    "HUAMI_AUTH_SERVICE",
    "HUAMI_SERVICE",
    "INFINITIME_MOTION_SERVICE",
    "INFINITIME_STEP_COUNT",
    "WATCH",
    "full",
    "mi_band",
    "mi_band_hr",
    "mi_band_steps",
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
HUAMI_SERVICE = full("fee0")
HUAMI_AUTH_SERVICE = full("fee1")


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


def mi_band_hr(tick: int) -> bytes:
    """HRS 2A37 as a Mi Band sends it (flags 0x00, uint8 bpm): 60–64 bpm."""
    return bytes([0x00, 60 + tick % 5])


def mi_band_steps(tick: int) -> bytes:
    """Realtime steps: 1000 today when connected, one more with every notification."""
    return steps_payload(1000 + tick)


def mi_band(
    *,
    address: str,
    name: str,
    key: bytes | None = KEY,
    tap_delay_s: float | None = 0.0,
    accepts_key: bool = True,
    hr_timeout_s: float | None = None,
) -> PeripheralSpec:
    """A Mi Band 2/3 holding ``key`` (``None``: factory-fresh, waiting for first pairing).

    The key lives in one :class:`BandMemory` for every connection, so a key written on first
    pairing is the one later connections authenticate with; the wearer taps the band
    ``tap_delay_s`` after the key write (``None``: never) and the band takes the key unless
    ``accepts_key`` is false. Heart rate stops ``hr_timeout_s`` after the last ping.
    """
    memory = BandMemory(key=key)

    def firmware() -> MiBandFirmware:
        return MiBandFirmware(
            memory=memory,
            tap_delay_s=tap_delay_s,
            accepts_key=accepts_key,
            hr_timeout_s=hr_timeout_s,
        )

    return PeripheralSpec(
        address=address,
        name=name,
        advertised=(HUAMI_SERVICE,),
        services={
            HEART_RATE_SERVICE: (
                CharSpec(HEART_RATE_MEASUREMENT, ("notify",), payload=mi_band_hr),
                CharSpec(HR_CONTROL_POINT, ("read", "write"), value=b"\x00"),
            ),
            HUAMI_SERVICE: (
                CharSpec(
                    REALTIME_STEPS,
                    ("read", "notify"),
                    value=steps_payload(1000),
                    payload=mi_band_steps,
                ),
            ),
            HUAMI_AUTH_SERVICE: (CharSpec(AUTH, ("write-without-response", "notify")),),
        },
        firmware=firmware,
    )
