"""Every vector in the reference file ``tests/fixtures/gatt/vectors.json`` decodes as documented there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector.errors import PayloadError
from collector.profiles.csc import crank_cadence_rpm, parse_csc_measurement
from collector.profiles.ftms import parse_indoor_bike_data, parse_treadmill_data
from collector.profiles.heart_rate import parse_heart_rate_measurement
from collector.profiles.huami import parse_realtime_steps
from collector.profiles.infinitime import parse_step_count
from collector.profiles.rsc import parse_rsc_measurement

# tests/collector/profiles/<this file> -> parents[2] is tests/; provenance in gatt/SOURCE.txt.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VECTORS: dict[str, Any] = json.loads((FIXTURES / "gatt" / "vectors.json").read_text())

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "heart_rate_measurement_2a37": parse_heart_rate_measurement,
    "rsc_measurement_2a53": parse_rsc_measurement,
    "csc_measurement_2a5b": parse_csc_measurement,
    "ftms_indoor_bike_data_2ad2": parse_indoor_bike_data,
    "ftms_treadmill_data_2acd": parse_treadmill_data,
    "infinitime_step_count_00030001_78fc_48fe_8e23_433b3a1942d0": parse_step_count,
    "huami_realtime_steps_00000007_0000_3512_2118_0009af100700": parse_realtime_steps,
}

# The reference file names a few quantities differently from the dataclasses.
KEY_ALIASES = {"cadence_per_min": "cadence_spm"}


def _single_vectors() -> list[Any]:
    cases = []
    for section in PARSERS:
        for index, vector in enumerate(VECTORS[section]):
            if "hex" in vector:
                cases.append(pytest.param(section, vector, id=f"{section}[{index}]"))
    return cases


def test_every_section_of_the_reference_file_has_a_parser() -> None:
    assert set(VECTORS) - {"about"} == set(PARSERS)


def _normalise(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, (int, float)):
        return value.value  # enums such as SensorContact compare by their string value
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize(("section", "vector"), _single_vectors())
def test_vector(section: str, vector: dict[str, Any]) -> None:
    payload = bytes.fromhex(vector["hex"])
    parser = PARSERS[section]
    if vector.get("invalid"):
        with pytest.raises(PayloadError):
            parser(payload)
        return
    decoded = parser(payload)
    for key, expected in vector["expect"].items():
        actual = _normalise(getattr(decoded, KEY_ALIASES.get(key, key)))
        assert actual == pytest.approx(expected), key


def test_csc_pair_derives_crank_cadence_across_event_time_rollover() -> None:
    (vector,) = [v for v in VECTORS["csc_measurement_2a5b"] if "pair_hex" in v]
    first, second = (parse_csc_measurement(bytes.fromhex(h)) for h in vector["pair_hex"])
    assert first.crank_revs is not None
    assert first.crank_event_s is not None
    assert second.crank_revs is not None
    assert second.crank_event_s is not None
    cadence = crank_cadence_rpm(
        revs_before=first.crank_revs,
        event_before_s=first.crank_event_s,
        revs_after=second.crank_revs,
        event_after_s=second.crank_event_s,
    )
    assert cadence == pytest.approx(vector["expect_derived"]["crank_cadence_rpm"])
