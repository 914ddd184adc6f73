"""The profile registry, scan recognition, UUID helpers and the FTMS fragment merger."""

from __future__ import annotations

import re

import pytest

from collector.profiles import PROFILES, normalise_uuid, profile, recognise, uuid16
from collector.profiles.ftms import (
    FtmsFragmentMerger,
    IndoorBikeData,
    TreadmillData,
    parse_indoor_bike_data,
    parse_treadmill_data,
)

FULL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_registry_uuids_are_full_lowercase_and_unique() -> None:
    for entry in PROFILES:
        assert FULL_UUID.match(entry.service_uuid), entry.name
        assert FULL_UUID.match(entry.characteristic_uuid), entry.name
    assert len({p.characteristic_uuid for p in PROFILES}) == len(PROFILES)
    assert len({p.name for p in PROFILES}) == len(PROFILES)


def test_registry_entries() -> None:
    assert profile("heart_rate").characteristic_uuid == "00002a37-0000-1000-8000-00805f9b34fb"
    assert profile("huami_realtime_steps").auth == "huami"
    assert profile("infinitime_steps").service_uuid == "00030000-78fc-48fe-8e23-433b3a1942d0"
    assert profile("battery").parse(b"\x32") is not None
    with pytest.raises(KeyError):
        profile("no_such_profile")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("180d", "0000180d-0000-1000-8000-00805f9b34fb"),
        ("0x180D", "0000180d-0000-1000-8000-00805f9b34fb"),
        ("0000FEE0", "0000fee0-0000-1000-8000-00805f9b34fb"),
        ("00030000-78FC-48FE-8E23-433B3A1942D0", "00030000-78fc-48fe-8e23-433b3a1942d0"),
        ("{00002a37-0000-1000-8000-00805f9b34fb}", "00002a37-0000-1000-8000-00805f9b34fb"),
    ],
)
def test_normalise_uuid(text: str, expected: str) -> None:
    assert normalise_uuid(text) == expected


@pytest.mark.parametrize("text", ["", "18", "180d0", "xyz", "0000180d-0000-1000-8000"])
def test_normalise_uuid_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="UUID"):
        normalise_uuid(text)


def test_uuid16_range() -> None:
    assert uuid16(0x2A19) == "00002a19-0000-1000-8000-00805f9b34fb"
    with pytest.raises(ValueError, match="16-bit"):
        uuid16(0x10000)


@pytest.mark.parametrize(
    ("services", "name", "expected"),
    [
        (["0000180d-0000-1000-8000-00805f9b34fb"], "Polar H10 1234", ["heart_rate"]),
        (["1826"], "WalkingPad", ["ftms_indoor_bike", "ftms_treadmill"]),
        (["1816", "180f"], None, ["csc", "battery"]),
        (["1814"], None, ["rsc"]),
        ([], "InfiniTime", ["heart_rate", "infinitime_steps", "battery"]),
        (["fee0"], None, ["heart_rate", "huami_realtime_steps"]),
        (["0000fee1-0000-1000-8000-00805f9b34fb"], None, ["heart_rate", "huami_realtime_steps"]),
        ([], "MI Band 2", ["heart_rate", "huami_realtime_steps"]),
        ([], "Mi Band 3", ["heart_rate", "huami_realtime_steps"]),
        ([], "Mi Band 4", []),  # different protocol generation, not supported
        (["not-a-uuid", "1234"], "Kettle", []),
        ([], None, []),
    ],
)
def test_recognise(services: list[str], name: str | None, expected: list[str]) -> None:
    assert recognise(services, name) == expected


def test_merger_joins_fragments_until_more_data_clears() -> None:
    merger: FtmsFragmentMerger[IndoorBikeData] = FtmsFragmentMerger()
    assert merger.feed(parse_indoor_bike_data(bytes.fromhex("01083c00"))) == ()
    assert merger.pending is not None
    (record,) = merger.feed(parse_indoor_bike_data(bytes.fromhex("44029c095c004f0050")))
    assert record.more_data is False
    assert record.elapsed_s == 60
    assert record.speed_kmh == pytest.approx(24.6)
    assert record.bpm == 80
    assert merger.pending is None


def test_merger_passes_single_frames_through() -> None:
    merger: FtmsFragmentMerger[TreadmillData] = FtmsFragmentMerger()
    frame = parse_treadmill_data(bytes.fromhex("0404f401e803005802"))
    assert merger.feed(frame) == (frame,)


def test_merger_emits_held_record_when_a_field_repeats() -> None:
    merger: FtmsFragmentMerger[IndoorBikeData] = FtmsFragmentMerger()
    first = parse_indoor_bike_data(bytes.fromhex("01083c00"))
    second = parse_indoor_bike_data(bytes.fromhex("01083d00"))
    assert merger.feed(first) == ()
    # a machine that sets "More Data" on every frame: each frame comes out one frame late
    assert merger.feed(second) == (first,)
    final = parse_indoor_bike_data(bytes.fromhex("0008c4093e00"))
    held, merged = merger.feed(final)
    assert held == second
    assert merged.elapsed_s == 62
    assert merged.speed_kmh == pytest.approx(25.0)


def test_merger_flush() -> None:
    merger: FtmsFragmentMerger[IndoorBikeData] = FtmsFragmentMerger()
    fragment = parse_indoor_bike_data(bytes.fromhex("01083c00"))
    merger.feed(fragment)
    assert merger.flush() == fragment
    assert merger.flush() is None
