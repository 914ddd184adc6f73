"""The shape of an ingest batch, as msgspec structs decoded straight from the request body.

msgspec decodes and range-checks a 10,000-sample batch several times faster than pydantic (it
builds no intermediate dicts; measured by ``rehab bench ingest``), which matters because ingest is
the service's only high-volume route. Ranges that need no context live here; the time format,
checks that need another field or the current time live in ``service.ingest.times`` and
``service.ingest.validate``. The contract is documented in ``WIRE_FORMAT.md`` beside this file.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

__all__ = ["BATCH_DECODER", "BatchIn", "BikeIn", "CadenceIn", "HeartRateIn", "SampleIn", "StepsIn"]

# The hub's number for the sensor a sample came from (WIRE_FORMAT.md); 0 when not given.
Sensor = Annotated[int, Meta(ge=0, le=255)]

# Physiological bounds for heart rate: 20 bpm is below any sustained human rate, 250 above any
# adult maximum (Tanaka 2001 HRmax ≈ 208 − 0.7·age); values outside are sensor artefacts.
_BPM_MIN, _BPM_MAX = 20, 250
# RR interval 0.2–3.0 s matches 20–300 bpm; the 0x2A37 payload fits at most 9 RR values in a
# default-MTU notification, 16 leaves room for larger MTUs.
_RR_MIN_S, _RR_MAX_S, _RR_MAX_COUNT = 0.2, 3.0, 16


class _Sample(msgspec.Struct, tag_field="kind", forbid_unknown_fields=True, gc=False):
    """Every sample: tagged by ``kind``, unknown fields rejected (the options are inherited).

    ``gc=False`` keeps the samples out of the cyclic garbage collector: they hold no containers
    that could form a cycle, and tracking 50,000 of them per batch would trigger collections
    (msgspec's documented use of the option).
    """

    # RFC 3339 with an offset; the format is checked for the whole batch at once in times.py.
    t: str


class HeartRateIn(_Sample, tag="heart_rate"):
    bpm: Annotated[int, Meta(ge=_BPM_MIN, le=_BPM_MAX)]
    sensor: Sensor = 0
    rr_s: (
        Annotated[
            list[Annotated[float, Meta(ge=_RR_MIN_S, le=_RR_MAX_S)]],
            Meta(max_length=_RR_MAX_COUNT),
        ]
        | None
    ) = None
    contact: Literal["detected", "not_detected", "not_supported"] | None = None


# At most 4 steps/s (validate.MAX_STEPS_PER_S, checked against the interval there) over the
# longest interval (3,600 s): also keeps every count far inside the `integer` column.
_STEPS_MAX = 4 * 3600


class StepsIn(_Sample, tag="steps"):
    steps: Annotated[int, Meta(ge=0, le=_STEPS_MAX)]
    # One hour at most: the collector reports per-interval deltas, and longer intervals would blur
    # the minute grid the analysis builds.
    interval_s: Annotated[int, Meta(ge=1, le=3600)]
    sensor: Sensor = 0


class CadenceIn(_Sample, tag="cadence"):
    # 300 steps/min is above elite sprint cadence; RSC reports uint8 steps/min (GATT supplement).
    spm: Annotated[float, Meta(ge=0, le=300)]
    sensor: Sensor = 0
    running: bool | None = None


class BikeIn(_Sample, tag="bike"):
    # Crank cadence above 250 rpm or power above 3,000 W is not a human on a home bike.
    rpm: Annotated[float, Meta(ge=0, le=250)]
    sensor: Sensor = 0
    power_w: Annotated[int, Meta(ge=0, le=3000)] | None = None


SampleIn = HeartRateIn | StepsIn | CadenceIn | BikeIn


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    batch_id: UUID
    samples: Annotated[list[SampleIn], Meta(min_length=1)]


BATCH_DECODER: msgspec.json.Decoder[BatchIn] = msgspec.json.Decoder(BatchIn)
