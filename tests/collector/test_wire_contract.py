"""Contract test: the examples in service/ingest/WIRE_FORMAT.md round-trip through collector.wire,
and the hub clamps to exactly the bounds of the schema the service decodes with (``wire``)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import msgspec
import numpy as np
import orjson
import pytest

import wire
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

T_S = 1_778_403_600.0  # 2026-05-10T09:00:00Z
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
    with pytest.raises(PayloadError, match=r"'spo2' - at `\$.samples\[0\].kind`"):
        decode_batch(
            orjson.dumps(
                {"batch_id": batch_id, "samples": [{"kind": "spo2", "t": "2026-05-10T09:00:00Z"}]}
            )
        )
    with pytest.raises(PayloadError, match="missing required field `bpm`"):
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


def _bounds(struct: type[msgspec.Struct]) -> dict[str, tuple[object, object]]:
    """``{field: (minimum, maximum)}`` of a wire struct's bounded fields, as msgspec reads them."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    out: dict[str, tuple[object, object]] = {}
    for field in info.fields:
        types = [field.type]
        if isinstance(field.type, msgspec.inspect.UnionType):
            types = [t for t in field.type.types if not isinstance(t, msgspec.inspect.NoneType)]
        (kind,) = types
        if isinstance(kind, msgspec.inspect.ListType):
            out[f"{field.name}.length"] = (kind.min_length, kind.max_length)
            kind = kind.item_type
        if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
            out[field.name] = (kind.ge, kind.le)
    return out


def test_the_schema_carries_the_documented_bounds() -> None:
    assert _bounds(wire.HeartRate) == {
        "bpm": (20, 250),
        "rr_s.length": (None, 16),
        "rr_s": (0.2, 3.0),
        "sensor": (0, 255),
    }
    assert _bounds(wire.Steps) == {
        "steps": (0, 4 * 3600),
        "interval_s": (1, 3600),
        "sensor": (0, 255),
    }
    assert _bounds(wire.Cadence) == {"spm": (0, 300), "sensor": (0, 255)}
    assert _bounds(wire.Bike) == {"rpm": (0, 250), "power_w": (0, 3000), "sensor": (0, 255)}
    assert (
        tuple(
            msgspec.inspect.type_info(kind).tag  # type: ignore[attr-defined]
            for kind in (wire.HeartRate, wire.Steps, wire.Cadence, wire.Bike)
        )
        == wire.KINDS
    )


def _round_trips(sample: HeartRateSample | StepsSample | CadenceSample | BikeSample) -> bool:
    try:
        decode_batch(encode_batch(str(uuid.uuid4()), [sample]))
    except PayloadError:
        return False
    return True


@pytest.mark.parametrize(
    ("sample", "accepted"),
    [
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MIN), True),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MIN - 1), False),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MAX), True),
        (HeartRateSample(t_s=T_S, bpm=wire.BPM_MAX + 1), False),
        (HeartRateSample(t_s=T_S, bpm=70, rr_s=(wire.RR_MIN_S, wire.RR_MAX_S)), True),
        (HeartRateSample(t_s=T_S, bpm=70, rr_s=(wire.RR_MAX_S + 0.01,)), False),
        (HeartRateSample(t_s=T_S, bpm=70, rr_s=(1.0,) * wire.RR_MAX_COUNT), True),
        (HeartRateSample(t_s=T_S, bpm=70, rr_s=(1.0,) * (wire.RR_MAX_COUNT + 1)), False),
        (HeartRateSample(t_s=T_S, bpm=70, sensor=wire.SENSOR_MAX), True),
        (HeartRateSample(t_s=T_S, bpm=70, sensor=wire.SENSOR_MAX + 1), False),
        (StepsSample(t_s=T_S, steps=wire.STEPS_MAX, interval_s=wire.INTERVAL_MAX_S), True),
        (StepsSample(t_s=T_S, steps=wire.STEPS_MAX + 1, interval_s=wire.INTERVAL_MAX_S), False),
        (StepsSample(t_s=T_S, steps=1, interval_s=wire.INTERVAL_MIN_S - 1), False),
        (StepsSample(t_s=T_S, steps=1, interval_s=wire.INTERVAL_MAX_S + 1), False),
        (CadenceSample(t_s=T_S, spm=wire.SPM_MAX), True),
        (CadenceSample(t_s=T_S, spm=wire.SPM_MAX + 0.5), False),
        (BikeSample(t_s=T_S, rpm=wire.RPM_MAX, power_w=wire.POWER_MAX_W), True),
        (BikeSample(t_s=T_S, rpm=wire.RPM_MAX + 0.5), False),
        (BikeSample(t_s=T_S, rpm=60.0, power_w=wire.POWER_MAX_W + 1), False),
    ],
)
def test_the_hub_decodes_with_the_schema_bounds(
    sample: HeartRateSample | StepsSample | CadenceSample | BikeSample, accepted: bool
) -> None:
    assert _round_trips(sample) is accepted


def test_wire_imports_only_msgspec_and_the_standard_library() -> None:
    code = (
        "import sys; import wire; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'collector', 'service', 'analysis', 'numpy', 'orjson', 'pydantic', 'bleak'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=WIRE_FORMAT.parents[2],
    )
    assert result.stdout.strip() == "[]"
