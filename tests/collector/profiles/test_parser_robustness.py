"""No payload, however short, long or random, makes a parser raise anything but PayloadError."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import PayloadError
from collector.profiles import PROFILES
from collector.profiles.battery import parse_battery_level
from collector.profiles.csc import parse_csc_measurement
from collector.profiles.ftms import parse_indoor_bike_data, parse_treadmill_data
from collector.profiles.heart_rate import parse_heart_rate_measurement
from collector.profiles.huami import parse_realtime_steps
from collector.profiles.infinitime import parse_step_count
from collector.profiles.rsc import parse_rsc_measurement

# Valid payloads with the most fields each parser supports; every prefix is a truncation case.
VALID: list[tuple[Callable[[bytes], Any], str]] = [
    (parse_heart_rate_measurement, "1f0101320101000201ffff"),
    (parse_heart_rate_measurement, "1e5532002100"),
    (parse_rsc_measurement, "070003125600010000f0"),
    (parse_csc_measurement, "0339300000e8035901d007"),
    (parse_indoor_bike_data, "fe1fe8032003b400a0001027000500c800960032002c0105642d3c005802"),
    (parse_treadmill_data, "fe1ff4012003e803001400f6ff640032000c0a1400c800035a231e00b00428009600"),
    (parse_treadmill_data, "8424f401e803003200ffffff5802d20400"),
    (parse_step_count, "d2040000"),
    (parse_realtime_steps, "0c393000000000000000000000"),
    (parse_battery_level, "64"),
]

TRUNCATIONS = [
    pytest.param(
        parser,
        bytes.fromhex(hex_payload)[:cut],
        id=f"{parser.__name__}-{cut}of{len(hex_payload) // 2}",
    )
    for parser, hex_payload in VALID
    for cut in range(len(hex_payload) // 2)
]


@pytest.mark.parametrize(
    ("parser", "payload"), [pytest.param(p, bytes.fromhex(h)) for p, h in VALID]
)
def test_full_payload_parses(parser: Callable[[bytes], Any], payload: bytes) -> None:
    parser(payload)


@pytest.mark.parametrize(("parser", "prefix"), TRUNCATIONS)
def test_every_truncation_parses_to_less_or_raises_payload_error(
    parser: Callable[[bytes], Any], prefix: bytes
) -> None:
    # A prefix may itself be a valid payload (fewer RR intervals; a treadmill frame whose vendor
    # tail no longer matches), but it must never decode to what the whole payload decodes to,
    # and nothing but PayloadError may escape.
    full = next(
        parser(bytes.fromhex(h))
        for p, h in VALID
        if p is parser and bytes.fromhex(h).startswith(prefix)
    )
    try:
        decoded = parser(prefix)
    except PayloadError:
        return
    assert decoded != full


@pytest.mark.parametrize(
    ("parser", "payload"),
    [
        pytest.param(p, bytes.fromhex(h) + b"\x00", id=p.__name__)
        for p, h in VALID
        if not h.startswith("8424")
    ],
)
def test_one_unannounced_trailing_byte_is_rejected(
    parser: Callable[[bytes], Any], payload: bytes
) -> None:
    with pytest.raises(PayloadError):
        parser(payload)


@pytest.mark.parametrize("parsed_profile", PROFILES, ids=[p.name for p in PROFILES])
@settings(max_examples=300, deadline=None, derandomize=True)
@given(payload=st.binary(max_size=48))
def test_fuzz_only_payload_error_escapes(parsed_profile: Any, payload: bytes) -> None:
    with contextlib.suppress(PayloadError):
        parsed_profile.parse(payload)
