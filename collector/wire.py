"""Samples as the collector sends them, and their JSON encoding for ``POST /v1/ingest``.

The contract is ``service/ingest/WIRE_FORMAT.md`` (version 1), written down once as the msgspec
structs of :mod:`wire`, which the service decodes with: these dataclasses are the hub's own
typed samples (epoch seconds, tuples), and every encoding goes through those structs. Times
travel as RFC 3339 UTC with a ``Z`` suffix at millisecond precision; the fraction is left out when
it is zero, as in the examples of that document. Each sample is encoded once, to the bytes of its
JSON object, when it enters the outbox; a batch body is those objects joined, so re-sending a
batch re-sends identical bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

import wire
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

Contact = wire.Contact
_ENCODE = wire.SAMPLE_ENCODER.encode


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
# 0 (left out of the JSON) when the sender has one source, like the simulator (wire.SENSOR_MAX).


def format_time(t_s: float) -> str:
    """Format epoch seconds as RFC 3339 UTC, ``Z`` suffix, milliseconds unless they are zero.

    :func:`_time_texts` formats many at once with numpy, to the same text (a test checks).
    """
    whole_s, ms = divmod(round(t_s * 1000), 1000)
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


def _wire_sample(sample: Sample) -> wire.Sample:
    t = format_time(sample.t_s)
    if isinstance(sample, HeartRateSample):
        return wire.HeartRate(
            t=t,
            bpm=sample.bpm,
            rr_s=list(sample.rr_s) if sample.rr_s else None,
            contact=sample.contact,
            sensor=sample.sensor,
        )
    if isinstance(sample, StepsSample):
        return wire.Steps(
            t=t, steps=sample.steps, interval_s=sample.interval_s, sensor=sample.sensor
        )
    if isinstance(sample, CadenceSample):
        return wire.Cadence(t=t, spm=sample.spm, running=sample.running, sensor=sample.sensor)
    return wire.Bike(t=t, rpm=sample.rpm, power_w=sample.power_w, sensor=sample.sensor)


def encode_sample(sample: Sample) -> bytes:
    """Encode one sample as the bytes of its JSON object in a batch's ``samples`` array."""
    return _ENCODE(_wire_sample(sample))


def assemble_batch(batch_id: str, encoded_samples: Iterable[bytes]) -> bytes:
    """Join already-encoded samples into a request body ``{"batch_id": ..., "samples": [...]}``."""
    head = _ENCODE(str(uuid.UUID(batch_id)))
    return b'{"batch_id":' + head + b',"samples":[' + b",".join(encoded_samples) + b"]}"


def encode_batch(batch_id: str, samples: Sequence[Sample]) -> bytes:
    """Encode a batch exactly as ``POST /v1/ingest`` expects it (WIRE_FORMAT.md, "Request")."""
    return assemble_batch(batch_id, (encode_sample(s) for s in samples))


def _time_texts(t_s: npt.NDArray[np.float64]) -> list[str]:
    """:func:`format_time` of many times at once."""
    ms = np.round(np.asarray(t_s, dtype=np.float64) * 1000).astype(np.int64)
    seconds = np.datetime_as_string((ms // 1000).astype("datetime64[s]"), unit="s").tolist()
    remainder = (ms % 1000).tolist()
    return [f"{s}.{r:03d}Z" if r else f"{s}Z" for s, r in zip(seconds, remainder, strict=True)]


def encode_heart_rate_series(
    t_s: npt.NDArray[np.float64], bpm: npt.NDArray[np.integer[Any]]
) -> list[bytes]:
    """Encode many heart-rate samples at once (the times formatted together), one object each."""
    heart_rate = wire.HeartRate
    return [
        _ENCODE(heart_rate(t=t, bpm=b))
        for t, b in zip(_time_texts(t_s), np.asarray(bpm).tolist(), strict=True)
    ]


def encode_steps_series(
    t_s: npt.NDArray[np.float64], steps: npt.NDArray[np.integer[Any]], *, interval_s: int
) -> list[bytes]:
    """Encode many step-count samples sharing one interval, one object each."""
    steps_of = wire.Steps
    return [
        _ENCODE(steps_of(t=t, steps=n, interval_s=interval_s))
        for t, n in zip(_time_texts(t_s), np.asarray(steps).tolist(), strict=True)
    ]


def _from_wire(sample: wire.Sample) -> Sample:
    t_s = parse_time(sample.t)
    if isinstance(sample, wire.HeartRate):
        return HeartRateSample(
            t_s=t_s,
            bpm=sample.bpm,
            rr_s=tuple(sample.rr_s or ()),
            contact=sample.contact,
            sensor=sample.sensor,
        )
    if isinstance(sample, wire.Steps):
        return StepsSample(
            t_s=t_s, steps=sample.steps, interval_s=sample.interval_s, sensor=sample.sensor
        )
    if isinstance(sample, wire.Cadence):
        return CadenceSample(t_s=t_s, spm=sample.spm, running=sample.running, sensor=sample.sensor)
    return BikeSample(t_s=t_s, rpm=sample.rpm, power_w=sample.power_w, sensor=sample.sensor)


def decode_batch(body: bytes) -> tuple[str, list[Sample]]:
    """Decode a request body into its batch id and samples (the inverse of :func:`encode_batch`).

    The body is checked against the same schema the service decodes with (:mod:`wire`).
    """
    try:
        batch = wire.BATCH_DECODER.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise PayloadError(f"not an ingest batch: {exc}") from exc
    return str(batch.batch_id), [_from_wire(s) for s in batch.samples]
