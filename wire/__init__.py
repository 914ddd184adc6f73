"""The ingest wire format (``service/ingest/WIRE_FORMAT.md``, version 1) as msgspec structs.

One schema for both ends of ``POST /v1/ingest``: the home hub (``collector``) encodes its samples
with these structs and clamps what it reads from a band to these bounds; the service
(``service.ingest``) decodes and range-checks uploaded bodies with the same structs. A bound
changed here changes both sides at once.

This is a top-level package of its own because the two sides must not import each other: the
hub runs on a Raspberry Pi without the service's web and database stack (``pip install .``), and
the service must not load the hub's Bluetooth runtime. ``wire`` imports only msgspec and the
standard library, so either side can depend on it (a test checks the import rule). Checks that
need another field, the whole batch or the clock (time format, the time window, steps per second
over the interval) live in ``service.ingest.validate``; the bounds they use are named here.

msgspec decodes and range-checks a 10,000-sample batch several times faster than pydantic (it
builds no intermediate dicts; ``rehab bench ingest``), and encodes a sample in about a
microsecond; ingest is the service's only high-volume route.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = [
    "BATCH_DECODER",
    "BPM_MAX",
    "BPM_MIN",
    "INTERVAL_MAX_S",
    "INTERVAL_MIN_S",
    "KINDS",
    "POWER_MAX_W",
    "RPM_MAX",
    "RR_MAX_COUNT",
    "RR_MAX_S",
    "RR_MIN_S",
    "SAMPLE_ENCODER",
    "SENSOR_MAX",
    "SPM_MAX",
    "STEPS_MAX",
    "STEPS_PER_S_MAX",
    "Batch",
    "Bike",
    "Cadence",
    "Contact",
    "HeartRate",
    "Sample",
    "Steps",
]

# Physiological bounds for heart rate: 20 bpm is below any sustained human rate, 250 above any
# adult maximum (Tanaka 2001 HRmax ≈ 208 − 0.7·age); values outside are sensor artefacts.
BPM_MIN, BPM_MAX = 20, 250
# RR interval 0.2–3.0 s matches 20–300 bpm; the 0x2A37 payload fits at most 9 RR values in a
# default-MTU notification, 16 leaves room for larger MTUs.
RR_MIN_S, RR_MAX_S, RR_MAX_COUNT = 0.2, 3.0, 16
# Faster than 4 steps/s sustained over an interval is not walking or running (elite sprint
# cadence is about 4.5 steps/s for seconds, not minutes); checked against the interval by the
# service (service.ingest.validate) and respected by the hub when it picks an interval.
STEPS_PER_S_MAX = 4
# One hour at most: the collector reports per-interval deltas, and longer intervals would blur
# the minute grid the analysis builds.
INTERVAL_MIN_S, INTERVAL_MAX_S = 1, 3600
# At most STEPS_PER_S_MAX over the longest interval: also keeps every count far inside the
# `integer` column.
STEPS_MAX = STEPS_PER_S_MAX * INTERVAL_MAX_S
# 300 steps/min is above elite sprint cadence; RSC reports uint8 steps/min (GATT supplement).
SPM_MAX = 300.0
# Crank cadence above 250 rpm or power above 3,000 W is not a human on a home bike.
RPM_MAX = 250.0
POWER_MAX_W = 3000
# The hub's number for the paired device a sample came from (1, 2, … in pairing order); 0 (left
# out of the JSON) when the sender has one source, like the simulator. One byte.
SENSOR_MAX = 255

KINDS = ("heart_rate", "steps", "cadence", "bike")
Contact = Literal["detected", "not_detected", "not_supported"]
Sensor = Annotated[int, Meta(ge=0, le=SENSOR_MAX)]


class _Sample(
    msgspec.Struct,
    tag_field="kind",
    forbid_unknown_fields=True,
    omit_defaults=True,
    gc=False,
):
    """Every sample: tagged by ``kind``, unknown fields rejected (the options are inherited).

    ``omit_defaults`` leaves optional fields out of the JSON when they are absent (``sensor`` 0,
    no RR intervals), as the examples of WIRE_FORMAT.md show. ``gc=False`` keeps the samples
    out of the cyclic garbage collector: they hold no containers that could form a cycle, and
    tracking 50,000 of them per batch would trigger collections (msgspec's documented use).
    Fields are declared in the order they are encoded in.
    """

    # RFC 3339 with an offset; the service checks the format for the whole batch at once
    # (service.ingest.times); the hub writes UTC with a ``Z`` (collector.wire.format_time).
    t: str


class HeartRate(_Sample, tag="heart_rate"):
    bpm: Annotated[int, Meta(ge=BPM_MIN, le=BPM_MAX)]
    rr_s: (
        Annotated[
            list[Annotated[float, Meta(ge=RR_MIN_S, le=RR_MAX_S)]],
            Meta(max_length=RR_MAX_COUNT),
        ]
        | None
    ) = None
    contact: Contact | None = None
    sensor: Sensor = 0


class Steps(_Sample, tag="steps"):
    """Steps counted in ``(t − interval_s, t]``."""

    steps: Annotated[int, Meta(ge=0, le=STEPS_MAX)]
    interval_s: Annotated[int, Meta(ge=INTERVAL_MIN_S, le=INTERVAL_MAX_S)]
    sensor: Sensor = 0


class Cadence(_Sample, tag="cadence"):
    """Walking or running cadence, steps per minute (RSC, treadmill)."""

    spm: Annotated[float, Meta(ge=0, le=SPM_MAX)]
    running: bool | None = None
    sensor: Sensor = 0


class Bike(_Sample, tag="bike"):
    """Crank cadence, revolutions per minute, and power when the bike reports it."""

    rpm: Annotated[float, Meta(ge=0, le=RPM_MAX)]
    power_w: Annotated[int, Meta(ge=0, le=POWER_MAX_W)] | None = None
    sensor: Sensor = 0


Sample = HeartRate | Steps | Cadence | Bike


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    """A request body: ``{"batch_id": ..., "samples": [...]}``."""

    batch_id: UUID
    samples: Annotated[list[Sample], Meta(min_length=1)]


BATCH_DECODER: msgspec.json.Decoder[Batch] = msgspec.json.Decoder(Batch)
SAMPLE_ENCODER = msgspec.json.Encoder()
