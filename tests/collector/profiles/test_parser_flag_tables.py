"""Literal byte tables: every flags bit of every parser, the sentinels, and the length rules."""

from __future__ import annotations

from typing import Any

import pytest

from collector.errors import PayloadError
from collector.profiles.battery import parse_battery_level
from collector.profiles.csc import crank_cadence_rpm, parse_csc_measurement
from collector.profiles.ftms import parse_indoor_bike_data, parse_treadmill_data
from collector.profiles.heart_rate import SensorContact, parse_heart_rate_measurement
from collector.profiles.huami import parse_realtime_steps
from collector.profiles.infinitime import parse_step_count
from collector.profiles.rsc import parse_rsc_measurement


def _check(decoded: Any, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert getattr(decoded, key) == pytest.approx(value), key


# --- Heart Rate Measurement 0x2A37 -----------------------------------------------------------

HRM_TABLE = [
    # bit 0 clear: uint8 value; bits 1–2 clear: contact not supported
    ("0048", {"bpm": 72, "contact": SensorContact.NOT_SUPPORTED, "energy_kj": None, "rr_s": ()}),
    # bit 0: uint16 value
    ("012c01", {"bpm": 300, "contact": SensorContact.NOT_SUPPORTED}),
    # bit 1 alone: status bit without the supported bit is still "not supported"
    ("0248", {"bpm": 72, "contact": SensorContact.NOT_SUPPORTED}),
    # bit 2 alone: supported, not detected
    ("0448", {"contact": SensorContact.NOT_DETECTED}),
    # bits 1 and 2: supported and detected
    ("0648", {"contact": SensorContact.DETECTED}),
    # bit 3: energy expended, uint16 kJ
    ("0848e803", {"energy_kj": 1000, "rr_s": ()}),
    # bit 4: one RR interval of 1024/1024 s
    ("10480004", {"rr_s": (1.0,), "energy_kj": None}),
    # bit 4: two RR intervals
    ("104800040002", {"rr_s": (1.0, 0.5)}),
    # bits 0, 3 and 4 together
    ("19780010000002", {"bpm": 120, "energy_kj": 16, "rr_s": (0.5,)}),
    # bits 5–7 are reserved: ignored
    ("e048", {"bpm": 72}),
]

HRM_INVALID = [
    "",  # no flags
    "00",  # flags but no value
    "0148",  # uint16 value cut short
    "08480a",  # energy cut short
    "1048",  # RR flag set, no RR interval
    "104800",  # half an RR interval
    "1048000400",  # one and a half RR intervals
    "0048ff",  # a byte the flags do not announce
    "0848e80300",  # a byte after the energy field
]


@pytest.mark.parametrize(("hex_payload", "expected"), HRM_TABLE)
def test_heart_rate_flag_table(hex_payload: str, expected: dict[str, Any]) -> None:
    _check(parse_heart_rate_measurement(bytes.fromhex(hex_payload)), expected)


@pytest.mark.parametrize("hex_payload", HRM_INVALID)
def test_heart_rate_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_heart_rate_measurement(bytes.fromhex(hex_payload))


def test_heart_rate_accepts_bytearray_as_bleak_delivers_it() -> None:
    assert parse_heart_rate_measurement(bytearray(b"\x00\x48")).bpm == 72


def test_payload_error_carries_structured_fields() -> None:
    with pytest.raises(PayloadError) as info:
        parse_heart_rate_measurement(bytes.fromhex("0148"))
    assert info.value.fields["characteristic"] == "Heart Rate Measurement"
    assert info.value.fields["needed"] == 2
    assert info.value.fields["offset"] == 1


# --- RSC Measurement 0x2A53 ------------------------------------------------------------------

RSC_TABLE = [
    ("0000025a", {"speed_mps": 2.0, "cadence_spm": 90, "stride_m": None, "running": False}),
    ("0100025a4b00", {"stride_m": 0.75, "total_distance_m": None}),
    ("0200025ae8030000", {"total_distance_m": 100.0, "stride_m": None}),
    ("0400025a", {"running": True}),
    ("0700025a4b00e8030000", {"stride_m": 0.75, "total_distance_m": 100.0, "running": True}),
    ("f800025a", {"running": False, "speed_mps": 2.0}),  # bits 3–7 reserved
]

RSC_INVALID = ["", "00", "000002", "0100025a4b", "0200025ae80300", "0000025a00"]


@pytest.mark.parametrize(("hex_payload", "expected"), RSC_TABLE)
def test_rsc_flag_table(hex_payload: str, expected: dict[str, Any]) -> None:
    _check(parse_rsc_measurement(bytes.fromhex(hex_payload)), expected)


@pytest.mark.parametrize("hex_payload", RSC_INVALID)
def test_rsc_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_rsc_measurement(bytes.fromhex(hex_payload))


# --- CSC Measurement 0x2A5B ------------------------------------------------------------------

CSC_TABLE = [
    ("00", {"wheel_revs": None, "crank_revs": None}),
    ("01ffffffff0004", {"wheel_revs": 0xFFFFFFFF, "wheel_event_s": 1.0, "crank_revs": None}),
    ("020a000004", {"crank_revs": 10, "crank_event_s": 1.0, "wheel_revs": None}),
    ("03010000000002ffff0008", {"wheel_revs": 1, "wheel_event_s": 0.5, "crank_revs": 0xFFFF}),
    ("fc", {"wheel_revs": None, "crank_revs": None}),  # bits 2–7 reserved
]

CSC_INVALID = ["", "01", "0101000000", "010100000000", "020a00", "020a0000", "00ff", "020a00000400"]


@pytest.mark.parametrize(("hex_payload", "expected"), CSC_TABLE)
def test_csc_flag_table(hex_payload: str, expected: dict[str, Any]) -> None:
    _check(parse_csc_measurement(bytes.fromhex(hex_payload)), expected)


@pytest.mark.parametrize("hex_payload", CSC_INVALID)
def test_csc_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_csc_measurement(bytes.fromhex(hex_payload))


@pytest.mark.parametrize(
    ("before", "after", "expected_rpm"),
    [
        ((10, 1.0), (11, 2.0), 60.0),  # one revolution per second
        ((0xFFFF, 1.0), (1, 2.0), 120.0),  # revolution count rolls over 65535 -> 1
        ((10, 63.5), (11, 0.5), 60.0),  # event time rolls over 64 s -> 0.5 s
        ((10, 2.0), (10, 2.0), None),  # repeated event: no new revolution, no division by zero
    ],
)
def test_crank_cadence(
    before: tuple[int, float], after: tuple[int, float], expected_rpm: float | None
) -> None:
    cadence = crank_cadence_rpm(
        revs_before=before[0], event_before_s=before[1], revs_after=after[0], event_after_s=after[1]
    )
    assert cadence == (None if expected_rpm is None else pytest.approx(expected_rpm))


# --- FTMS Indoor Bike Data 0x2AD2 ------------------------------------------------------------

BIKE_TABLE = [
    ("0000c409", {"more_data": False, "speed_kmh": 25.0}),  # bit 0 clear: speed present
    ("0100", {"more_data": True, "speed_kmh": None}),  # bit 0 set: speed absent
    ("0300e803", {"average_speed_kmh": 10.0}),
    ("0500b400", {"cadence_rpm": 90.0}),
    ("0900a000", {"average_cadence_rpm": 80.0}),
    ("1100102700", {"total_distance_m": 10000}),
    ("2100fbff", {"resistance_level": -5}),
    ("41009cff", {"power_w": -100}),
    ("81009600", {"average_power_w": 150}),
    (
        "010132002c0105",
        {"total_energy_kcal": 50, "energy_per_hour_kcal": 300, "energy_per_minute_kcal": 5},
    ),
    ("010264", {"bpm": 100}),
    ("01042d", {"met": 4.5}),
    ("01083c00", {"elapsed_s": 60}),
    ("01105802", {"remaining_s": 600}),
    # "data not available" sentinels
    ("0000ffff", {"speed_kmh": None}),
    ("0101ffffffffff", {"total_energy_kcal": None, "energy_per_hour_kcal": None}),
    ("0101ffffffffff", {"energy_per_minute_kcal": None}),
    ("4100ff7f", {"power_w": None}),
    ("2100ff7f", {"resistance_level": None}),
    ("0102ff", {"bpm": None}),
    ("010200", {"bpm": None}),  # 0 bpm: machine without a pulse sensor
    ("0104ff", {"met": None}),
    ("0108ffff", {"elapsed_s": None}),
    # reserved bits 13–15: unknown trailing fields are ignored
    ("0120aabb", {"more_data": True}),
    ("0180", {"more_data": True}),
]

BIKE_INVALID = ["", "00", "0000", "0000c4", "0500b4", "11001027", "01010000000000ff", "0100ff"]


@pytest.mark.parametrize(("hex_payload", "expected"), BIKE_TABLE)
def test_indoor_bike_flag_table(hex_payload: str, expected: dict[str, Any]) -> None:
    _check(parse_indoor_bike_data(bytes.fromhex(hex_payload)), expected)


@pytest.mark.parametrize("hex_payload", BIKE_INVALID)
def test_indoor_bike_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_indoor_bike_data(bytes.fromhex(hex_payload))


def test_indoor_bike_all_fields_in_wire_order() -> None:
    payload = bytes.fromhex("fe1fe8032003b400a0001027000500c800960032002c0105642d3c005802")
    _check(
        parse_indoor_bike_data(payload),
        {
            "more_data": False,
            "speed_kmh": 10.0,
            "average_speed_kmh": 8.0,
            "cadence_rpm": 90.0,
            "average_cadence_rpm": 80.0,
            "total_distance_m": 10000,
            "resistance_level": 5,
            "power_w": 200,
            "average_power_w": 150,
            "total_energy_kcal": 50,
            "bpm": 100,
            "met": 4.5,
            "elapsed_s": 60,
            "remaining_s": 600,
        },
    )


# --- FTMS Treadmill Data 0x2ACD --------------------------------------------------------------

TREADMILL_TABLE = [
    ("0000f401", {"more_data": False, "speed_kmh": 5.0, "steps": None}),
    ("0100", {"more_data": True, "speed_kmh": None}),
    ("03002003", {"average_speed_kmh": 8.0}),
    ("0500e80300", {"total_distance_m": 1000}),
    ("09001400f6ff", {"inclination_pct": 2.0, "ramp_angle_deg": -1.0}),
    ("110064003200", {"positive_elevation_gain_m": 10.0, "negative_elevation_gain_m": 5.0}),
    ("21000c", {"pace_km_per_min": 1.2}),
    ("41000a", {"average_pace_km_per_min": 1.0}),
    (
        "81001400c80003",
        {"total_energy_kcal": 20, "energy_per_hour_kcal": 200, "energy_per_minute_kcal": 3},
    ),
    ("01015a", {"bpm": 90}),
    ("010223", {"met": 3.5}),
    ("01041e00", {"elapsed_s": 30}),
    ("0108b004", {"remaining_s": 1200}),
    ("011028009600", {"force_on_belt_n": 40, "power_w": 150}),
    # sentinels
    ("0900ff7fff7f", {"inclination_pct": None, "ramp_angle_deg": None}),
    ("2100ff", {"pace_km_per_min": None}),
    ("01015a", {"bpm": 90}),
    ("010100", {"bpm": None}),
    # vendor step count behind reserved bit 13: exactly a uint24 after the standard fields
    (
        "8424f401e803003200ffffff5802d20400",
        {
            "speed_kmh": 5.0,
            "total_distance_m": 1000,
            "total_energy_kcal": 50,
            "energy_per_hour_kcal": None,
            "energy_per_minute_kcal": None,
            "elapsed_s": 600,
            "steps": 1234,
        },
    ),
    ("0120ffffff", {"steps": 0xFFFFFF}),
    # bit 13 with a tail of another length: no steps, the tail is ignored
    ("0120d204", {"steps": None, "more_data": True}),
    ("0120d2040000", {"steps": None}),
    ("0140aabb", {"steps": None}),  # reserved bit 14
]

TREADMILL_INVALID = [
    "",
    "00",
    "0000",
    "0000f4",
    "0500e803",
    "09001400f6",
    "0110280096",
    "0000f40100",
]


@pytest.mark.parametrize(("hex_payload", "expected"), TREADMILL_TABLE)
def test_treadmill_flag_table(hex_payload: str, expected: dict[str, Any]) -> None:
    _check(parse_treadmill_data(bytes.fromhex(hex_payload)), expected)


@pytest.mark.parametrize("hex_payload", TREADMILL_INVALID)
def test_treadmill_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_treadmill_data(bytes.fromhex(hex_payload))


# --- InfiniTime, Huami, Battery --------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_payload", "steps"), [("00000000", 0), ("d2040000", 1234), ("ffffffff", 0xFFFFFFFF)]
)
def test_infinitime_step_count(hex_payload: str, steps: int) -> None:
    assert parse_step_count(bytes.fromhex(hex_payload)).steps_today == steps


@pytest.mark.parametrize("hex_payload", ["", "d2", "d204", "d20400", "d204000000"])
def test_infinitime_step_count_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_step_count(bytes.fromhex(hex_payload))


def test_huami_realtime_steps_reads_bytes_1_and_2() -> None:
    payload = bytes.fromhex("0cffff" + "aa" * 10)
    assert parse_realtime_steps(payload).steps_today == 0xFFFF


@pytest.mark.parametrize("length", [0, 1, 3, 12, 14, 20])
def test_huami_realtime_steps_wrong_length(length: int) -> None:
    with pytest.raises(PayloadError):
        parse_realtime_steps(bytes(length))


@pytest.mark.parametrize(("hex_payload", "percent"), [("00", 0), ("37", 55), ("64", 100)])
def test_battery_level(hex_payload: str, percent: int) -> None:
    assert parse_battery_level(bytes.fromhex(hex_payload)).percent == percent


@pytest.mark.parametrize("hex_payload", ["", "65", "ff", "6400"])
def test_battery_level_invalid(hex_payload: str) -> None:
    with pytest.raises(PayloadError):
        parse_battery_level(bytes.fromhex(hex_payload))
