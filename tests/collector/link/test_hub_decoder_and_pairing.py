"""The consumer-side decoder (parsers, counters, echoes) and the pairing file."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import httpx
import pytest

from collector.errors import PairingError
from collector.hub import (
    NotificationDecoder,
    PairedDevice,
    Pairing,
    enroll,
    load_pairing,
    save_pairing,
)
from collector.link import ClockAnchor
from collector.profiles.battery import BATTERY_LEVEL_UUID
from collector.profiles.ftms import INDOOR_BIKE_DATA_UUID, TREADMILL_DATA_UUID
from collector.profiles.heart_rate import HEART_RATE_MEASUREMENT_UUID
from collector.profiles.infinitime import INFINITIME_STEP_COUNT_UUID
from collector.wire import (
    BikeSample,
    CadenceSample,
    HeartRateSample,
    StepsSample,
    decode_batch,
    encode_batch,
)

S = 1_000_000_000  # ns per s
# 2026-05-10 09:00:00 UTC at monotonic 0.
ANCHOR = ClockAnchor(monotonic_ns=0, wall_ns=1_778_403_600 * S)


def steps(n: int) -> bytes:
    return struct.pack("<I", n)


def test_heart_rate_becomes_a_wire_sample_at_anchored_wall_time() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    [sample] = decoder.decode(
        (1_250_000_000, HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("1e5532002100"))
    )
    assert isinstance(sample, HeartRateSample)
    assert sample.t_s == pytest.approx(1_778_403_601.25)
    assert sample.bpm == 85
    assert sample.contact == "detected"
    # 0.032 s is below the wire format's 0.2 s RR floor: dropped, the beat rate kept.
    assert sample.rr_s == ()


def test_out_of_range_heart_rate_is_not_sent() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    assert decoder.decode((0, HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("04ff"))) == []
    assert decoder.stats().out_of_range == 1


def test_a_read_echoed_as_a_notification_is_dropped_but_a_repeat_later_is_kept() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    hr = bytes.fromhex("0048")
    assert len(decoder.decode((0, HEART_RATE_MEASUREMENT_UUID, hr))) == 1
    assert decoder.decode((10_000_000, HEART_RATE_MEASUREMENT_UUID, hr)) == []
    assert len(decoder.decode((1 * S, HEART_RATE_MEASUREMENT_UUID, hr))) == 1
    assert decoder.stats().echoes == 1


def test_step_counter_deltas_duplicates_and_a_reset() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    assert decoder.decode((0, INFINITIME_STEP_COUNT_UUID, steps(1000))) == []  # baseline
    [first] = decoder.decode((10 * S, INFINITIME_STEP_COUNT_UUID, steps(1012)))
    assert first == StepsSample(t_s=first.t_s, steps=12, interval_s=10)
    # The same total again (reconnect, re-notification): nothing counted twice.
    assert decoder.decode((20 * S, INFINITIME_STEP_COUNT_UUID, steps(1012))) == []
    # The watch rebooted: back to a small count, which is counted once.
    [after_reset] = decoder.decode((30 * S, INFINITIME_STEP_COUNT_UUID, steps(3)))
    assert isinstance(after_reset, StepsSample)
    assert after_reset.steps == 3
    state = decoder.counter_state()
    restored = NotificationDecoder(anchor=ANCHOR, counters=state)
    [resumed] = restored.decode((40 * S, INFINITIME_STEP_COUNT_UUID, steps(7)))
    assert isinstance(resumed, StepsSample)
    assert resumed.steps == 4


def test_bike_data_battery_and_malformed_payloads() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    [bike] = decoder.decode((0, INDOOR_BIKE_DATA_UUID, bytes.fromhex("44029c095c004f0050")))
    assert bike == BikeSample(t_s=bike.t_s, rpm=46.0, power_w=79)
    assert decoder.decode((0, BATTERY_LEVEL_UUID, b"\x57")) == []
    assert decoder.stats().battery_percent == 87
    assert decoder.decode((S, HEART_RATE_MEASUREMENT_UUID, b"\x01")) == []
    assert decoder.stats().invalid == 1


def _pairing() -> Pairing:
    return Pairing(
        server_url="https://rehab.example.org",
        token="secret-token",
        device_id="hub-1",
        devices=(PairedDevice(address="AA:BB:CC:DD:EE:FF", name="Band"),),
        paired_at_s=1.0,
    )


def test_pairing_is_stored_owner_only_and_read_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = save_pairing(state, _pairing())
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_pairing(state) == _pairing()
    os.chmod(path, 0o644)
    with pytest.raises(PairingError, match="readable by other users"):
        load_pairing(state)
    with pytest.raises(PairingError, match="not paired"):
        load_pairing(tmp_path / "elsewhere")


async def test_enroll_exchanges_a_code_for_a_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.read() == b'{"code":"WRONG","name":"hub"}':
            return httpx.Response(404, json={"detail": "unknown code"})
        return httpx.Response(201, json={"device_id": "d-1", "token": "t-1"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        got = await enroll(server_url="https://s.example/", code="C0DE", client=client, name="hub")
        assert got == ("d-1", "t-1")
        assert str(seen[0].url) == "https://s.example/v1/devices/enroll"
        with pytest.raises(PairingError, match="refused the enrollment code"):
            await enroll(server_url="https://s.example", code="WRONG", client=client, name="hub")


def _treadmill(total_steps: int) -> bytes:
    # FTMS Treadmill Data: flags with the vendor step count (bit 13), speed 5.00 km/h, uint24 steps.
    return struct.pack("<HH", 0x2000, 500) + total_steps.to_bytes(3, "little")


@pytest.mark.parametrize("band_counts_steps", [False, True])
def test_treadmill_steps_are_steps_unless_a_band_counts_them(band_counts_steps: bool) -> None:
    decoder = NotificationDecoder(anchor=ANCHOR, steps_counted_elsewhere=lambda: band_counts_steps)
    assert decoder.decode((0, TREADMILL_DATA_UUID, _treadmill(1000))) == []
    [sample] = decoder.decode((60 * S, TREADMILL_DATA_UUID, _treadmill(1110)))
    if band_counts_steps:
        # The band already counts these steps: the treadmill contributes walking cadence only.
        assert isinstance(sample, CadenceSample)
        assert sample.spm == pytest.approx(110.0)
        assert sample.running is False
    else:
        assert isinstance(sample, StepsSample)
        assert sample.steps == 110


def test_a_band_counting_steps_says_so() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR)
    assert not decoder.counts_steps_today
    decoder.decode((0, INFINITIME_STEP_COUNT_UUID, steps(100)))
    assert decoder.counts_steps_today


def test_every_sample_carries_the_devices_sensor_number_on_the_wire() -> None:
    decoder = NotificationDecoder(anchor=ANCHOR, sensor=3)
    [sample] = decoder.decode((0, HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("0048")))
    assert sample.sensor == 3
    body = encode_batch("6f1c2b8e-3d4f-4a5b-9c6d-7e8f9a0b1c2d", [sample])
    assert b'"sensor":3' in body
    assert decode_batch(body)[1] == [sample]
    # A single-source sender (sensor 0) leaves the field out, as in WIRE_FORMAT.md's example.
    [plain] = NotificationDecoder(anchor=ANCHOR).decode(
        (0, HEART_RATE_MEASUREMENT_UUID, bytes.fromhex("0048"))
    )
    assert b"sensor" not in encode_batch("6f1c2b8e-3d4f-4a5b-9c6d-7e8f9a0b1c2d", [plain])
