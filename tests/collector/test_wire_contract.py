"""Contract test: the examples in service/ingest/WIRE_FORMAT.md round-trip through collector.wire."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import orjson
import pytest

from collector.errors import PayloadError
from collector.wire import (
    BikeSample,
    CadenceSample,
    HeartRateSample,
    StepsSample,
    decode_batch,
    encode_batch,
    encode_heart_rate_series,
    encode_sample,
    encode_steps_series,
    format_time,
    parse_time,
)

WIRE_FORMAT = Path(__file__).resolve().parents[2] / "service" / "ingest" / "WIRE_FORMAT.md"


def _json_examples() -> list[bytes]:
    text = WIRE_FORMAT.read_text(encoding="utf-8")
    return [m.encode() for m in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)]


def test_wire_format_has_a_request_example() -> None:
    assert len(_json_examples()) >= 1


@pytest.mark.parametrize("example", _json_examples())
def test_examples_round_trip_byte_for_byte(example: bytes) -> None:
    batch_id, samples = decode_batch(example)
    assert {type(s) for s in samples} == {
        HeartRateSample,
        StepsSample,
        CadenceSample,
        BikeSample,
    }
    # orjson re-dumps the example compactly with its key order: the canonical bytes.
    assert encode_batch(batch_id, samples) == orjson.dumps(orjson.loads(example))


def test_example_values_decode_to_the_documented_meaning() -> None:
    _, samples = decode_batch(_json_examples()[0])
    hr, steps, cadence, bike = samples
    assert hr == HeartRateSample(
        t_s=parse_time("2026-05-10T09:00:01.250Z"), bpm=88, rr_s=(0.68, 0.69)
    )
    assert steps == StepsSample(t_s=parse_time("2026-05-10T09:01:00Z"), steps=104, interval_s=60)
    assert cadence == CadenceSample(t_s=parse_time("2026-05-10T09:00:30Z"), spm=104)
    assert bike == BikeSample(t_s=parse_time("2026-05-10T17:00:01Z"), rpm=62, power_w=45)


def test_optional_fields_are_encoded_only_when_present() -> None:
    t_s = parse_time("2026-05-10T09:00:00Z")
    assert orjson.loads(encode_sample(HeartRateSample(t_s=t_s, bpm=70, contact="detected"))) == {
        "kind": "heart_rate",
        "t": "2026-05-10T09:00:00Z",
        "bpm": 70,
        "contact": "detected",
    }
    assert orjson.loads(encode_sample(CadenceSample(t_s=t_s, spm=98.5, running=False))) == {
        "kind": "cadence",
        "t": "2026-05-10T09:00:00Z",
        "spm": 98.5,
        "running": False,
    }
    assert "power_w" not in orjson.loads(encode_sample(BikeSample(t_s=t_s, rpm=60.0)))


@pytest.mark.parametrize(
    ("t_s", "text"),
    [
        (1_778_403_601.25, "2026-05-10T09:00:01.250Z"),
        (1_778_403_660.0, "2026-05-10T09:01:00Z"),
        (1_778_403_660.0004, "2026-05-10T09:01:00Z"),
        (1_778_403_660.9996, "2026-05-10T09:01:01Z"),
        (1_778_403_660.001, "2026-05-10T09:01:00.001Z"),
    ],
)
def test_times_are_utc_z_with_milliseconds(t_s: float, text: str) -> None:
    assert format_time(t_s) == text


def test_parse_time_accepts_offsets_and_rejects_naive_times() -> None:
    assert parse_time("2026-05-10T11:00:00+02:00") == parse_time("2026-05-10T09:00:00Z")
    with pytest.raises(PayloadError):
        parse_time("2026-05-10T09:00:00")
    with pytest.raises(PayloadError):
        parse_time("yesterday")


def test_series_encoders_match_the_per_sample_encoder() -> None:
    rng = np.random.default_rng(7)
    t_s = 1_778_371_200 + np.sort(rng.uniform(0, 86_400, 500))
    t_s[:50] = np.round(t_s[:50])  # whole seconds take the short form
    bpm = rng.integers(20, 251, t_s.size)
    assert encode_heart_rate_series(t_s, bpm) == [
        encode_sample(HeartRateSample(t_s=float(t), bpm=int(b)))
        for t, b in zip(t_s, bpm, strict=True)
    ]
    steps = rng.integers(0, 241, t_s.size)
    assert encode_steps_series(t_s, steps, interval_s=60) == [
        encode_sample(StepsSample(t_s=float(t), steps=int(n), interval_s=60))
        for t, n in zip(t_s, steps, strict=True)
    ]


def test_decode_rejects_unknown_kinds_and_missing_fields() -> None:
    batch_id = str(uuid.uuid4())
    with pytest.raises(PayloadError, match="unknown kind"):
        decode_batch(
            orjson.dumps(
                {"batch_id": batch_id, "samples": [{"kind": "spo2", "t": "2026-05-10T09:00:00Z"}]}
            )
        )
    with pytest.raises(PayloadError, match="'bpm'"):
        decode_batch(
            orjson.dumps(
                {
                    "batch_id": batch_id,
                    "samples": [{"kind": "heart_rate", "t": "2026-05-10T09:00:00Z"}],
                }
            )
        )
    with pytest.raises(PayloadError):
        decode_batch(b'{"batch_id": "not-a-uuid", "samples": []}')


def test_batch_id_must_be_a_uuid() -> None:
    with pytest.raises(ValueError, match="badly formed"):
        encode_batch("batch-1", [])
