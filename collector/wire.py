"""Samples as the collector sends them, and their JSON encoding for ``POST /v1/ingest``.

The contract is ``service/ingest/WIRE_FORMAT.md`` (version 1). Times travel as RFC 3339 UTC with a
``Z`` suffix at millisecond precision; the fraction is left out when it is zero, as in the
examples of that document. Each sample is encoded once, to the bytes of its JSON object, when it
enters the outbox; a batch body is those objects joined, so re-sending a batch re-sends identical
bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson

from collector.errors import PayloadError

__all__ = [
    "BikeSample",
    "CadenceSample",
    "HeartRateSample",
    "Sample",
    "StepsSample",
    "assemble_batch",
    "decode_batch",
    "encode_batch",
    "encode_heart_rate_series",
    "encode_sample",
    "encode_steps_series",
    "format_time",
    "parse_time",
]

Contact = Literal["detected", "not_detected", "not_supported"]


@dataclass(frozen=True, slots=True)
class HeartRateSample:
    """One heart-rate notification: ``t_s`` epoch seconds UTC, ``bpm`` beats per minute."""

    t_s: float
    bpm: int
    rr_s: tuple[float, ...] = ()
    contact: Contact | None = None
    sensor: int = 0


@dataclass(frozen=True, slots=True)
class StepsSample:
    """Steps counted in ``(t_s - interval_s, t_s]``."""

    t_s: float
    steps: int
    interval_s: int
    sensor: int = 0


@dataclass(frozen=True, slots=True)
class CadenceSample:
    """Walking or running cadence in steps per minute (RSC, treadmill)."""

    t_s: float
    spm: float
    running: bool | None = None
    sensor: int = 0


@dataclass(frozen=True, slots=True)
class BikeSample:
    """Crank cadence in revolutions per minute and, when the bike reports it, power in watts."""

    t_s: float
    rpm: float
    power_w: int | None = None
    sensor: int = 0


Sample = HeartRateSample | StepsSample | CadenceSample | BikeSample
# ``sensor`` (every kind) is the hub's number for the paired device a sample came from, 1–255;
# 0 (left out of the JSON) when the sender has one source, like the simulator. WIRE_FORMAT.md.


def _split_ms(t_s: float) -> tuple[int, int]:
    ms = round(t_s * 1000)
    return ms // 1000, ms % 1000


def format_time(t_s: float) -> str:
    """Format epoch seconds as RFC 3339 UTC, ``Z`` suffix, milliseconds unless they are zero."""
    whole_s, ms = _split_ms(t_s)
    text = datetime.fromtimestamp(whole_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ms:03d}Z" if ms else f"{text}Z"


def parse_time(text: str) -> float:
    """Parse an RFC 3339 time with an offset (``Z`` or ``±hh:mm``) into epoch seconds UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"not an RFC 3339 time: {text!r}", field="t") from exc
    if parsed.tzinfo is None:
        raise PayloadError(f"time has no offset: {text!r}", field="t")
    return parsed.timestamp()


def _sample_object(sample: Sample) -> dict[str, Any]:
    obj = _kind_object(sample)
    if sample.sensor:
        obj["sensor"] = sample.sensor
    return obj


def _kind_object(sample: Sample) -> dict[str, Any]:
    t = format_time(sample.t_s)
    if isinstance(sample, HeartRateSample):
        obj: dict[str, Any] = {"kind": "heart_rate", "t": t, "bpm": sample.bpm}
        if sample.rr_s:
            obj["rr_s"] = list(sample.rr_s)
        if sample.contact is not None:
            obj["contact"] = sample.contact
        return obj
    if isinstance(sample, StepsSample):
        return {"kind": "steps", "t": t, "steps": sample.steps, "interval_s": sample.interval_s}
    if isinstance(sample, CadenceSample):
        obj = {"kind": "cadence", "t": t, "spm": sample.spm}
        if sample.running is not None:
            obj["running"] = sample.running
        return obj
    obj = {"kind": "bike", "t": t, "rpm": sample.rpm}
    if sample.power_w is not None:
        obj["power_w"] = sample.power_w
    return obj


def encode_sample(sample: Sample) -> bytes:
    """Encode one sample as the bytes of its JSON object in a batch's ``samples`` array."""
    return orjson.dumps(_sample_object(sample))


def assemble_batch(batch_id: str, encoded_samples: Iterable[bytes]) -> bytes:
    """Join already-encoded samples into a request body ``{"batch_id": ..., "samples": [...]}``."""
    head = orjson.dumps(str(uuid.UUID(batch_id)))
    return b'{"batch_id":' + head + b',"samples":[' + b",".join(encoded_samples) + b"]}"


def encode_batch(batch_id: str, samples: Sequence[Sample]) -> bytes:
    """Encode a batch exactly as ``POST /v1/ingest`` expects it (WIRE_FORMAT.md, "Request")."""
    return assemble_batch(batch_id, (encode_sample(s) for s in samples))


def _time_texts(t_s: npt.NDArray[np.float64]) -> list[str]:
    ms = np.round(np.asarray(t_s, dtype=np.float64) * 1000).astype(np.int64)
    seconds = np.datetime_as_string((ms // 1000).astype("datetime64[s]"), unit="s").tolist()
    remainder = (ms % 1000).tolist()
    return [f"{s}.{r:03d}Z" if r else f"{s}Z" for s, r in zip(seconds, remainder, strict=True)]


def encode_heart_rate_series(
    t_s: npt.NDArray[np.float64], bpm: npt.NDArray[np.integer[Any]]
) -> list[bytes]:
    """Encode many heart-rate samples at once; byte-identical to :func:`encode_sample` on each."""
    texts = _time_texts(t_s)
    return [
        f'{{"kind":"heart_rate","t":"{t}","bpm":{b}}}'.encode()
        for t, b in zip(texts, np.asarray(bpm).tolist(), strict=True)
    ]


def encode_steps_series(
    t_s: npt.NDArray[np.float64], steps: npt.NDArray[np.integer[Any]], *, interval_s: int
) -> list[bytes]:
    """Encode many step-count samples sharing one interval; identical to :func:`encode_sample`."""
    texts = _time_texts(t_s)
    return [
        f'{{"kind":"steps","t":"{t}","steps":{n},"interval_s":{interval_s}}}'.encode()
        for t, n in zip(texts, np.asarray(steps).tolist(), strict=True)
    ]


def _field(obj: dict[str, Any], name: str, index: int) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise PayloadError(f"samples[{index}] has no {name!r}", index=index, field=name) from None


def _decode_sample(obj: dict[str, Any], index: int) -> Sample:
    kind = _field(obj, "kind", index)
    t_s = parse_time(_field(obj, "t", index))
    sensor = int(obj.get("sensor", 0))
    if kind == "heart_rate":
        return HeartRateSample(
            t_s=t_s,
            bpm=int(_field(obj, "bpm", index)),
            rr_s=tuple(float(x) for x in obj.get("rr_s", ())),
            contact=obj.get("contact"),
            sensor=sensor,
        )
    if kind == "steps":
        return StepsSample(
            t_s=t_s,
            steps=int(_field(obj, "steps", index)),
            interval_s=int(_field(obj, "interval_s", index)),
            sensor=sensor,
        )
    if kind == "cadence":
        return CadenceSample(
            t_s=t_s, spm=_field(obj, "spm", index), running=obj.get("running"), sensor=sensor
        )
    if kind == "bike":
        return BikeSample(
            t_s=t_s, rpm=_field(obj, "rpm", index), power_w=obj.get("power_w"), sensor=sensor
        )
    raise PayloadError(f"samples[{index}] has unknown kind {kind!r}", index=index, field="kind")


def decode_batch(body: bytes) -> tuple[str, list[Sample]]:
    """Decode a request body into its batch id and samples (the inverse of :func:`encode_batch`)."""
    try:
        doc = orjson.loads(body)
        batch_id = str(uuid.UUID(doc["batch_id"]))
        raw = doc["samples"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"not an ingest batch: {exc}") from exc
    return batch_id, [_decode_sample(obj, i) for i, obj in enumerate(raw)]
