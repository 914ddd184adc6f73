"""The shape of an ingest batch, as pydantic-validated typed dicts (the fastest pydantic path).

Ranges that need no context live here; checks that need another field or the current time live in
``service.ingest.validate``. The contract is documented in ``WIRE_FORMAT.md`` beside this file.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired
from uuid import UUID

from pydantic import ConfigDict, Discriminator, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this TypedDict on Python 3.11

__all__ = ["BATCH_ADAPTER", "RFC3339_PATTERN", "BatchIn", "SampleIn"]

_STRICT = ConfigDict(extra="forbid")

# RFC 3339 date-time with a mandatory offset (section 5.6; upper-case T and Z as in ISO 8601
# profiles). Only the shape is checked here: service.ingest.times converts every time of a batch
# to microseconds in one numpy step and reports impossible dates (February 30) by index, which is
# several times faster than building a datetime per sample.
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
Rfc3339 = Annotated[str, Field(pattern=RFC3339_PATTERN)]
# The hub's number for the sensor a sample came from (WIRE_FORMAT.md); 0 when not given.
Sensor = Annotated[int, Field(ge=0, le=255)]

# Physiological bounds for heart rate: 20 bpm is below any sustained human rate, 250 above any
# adult maximum (Tanaka 2001 HRmax ≈ 208 − 0.7·age); values outside are sensor artefacts.
_BPM_MIN, _BPM_MAX = 20, 250
# RR interval 0.2–3.0 s matches 20–300 bpm; the 0x2A37 payload fits at most 9 RR values in a
# default-MTU notification, 16 leaves room for larger MTUs.
_RR_MIN_S, _RR_MAX_S, _RR_MAX_COUNT = 0.2, 3.0, 16


@with_config(_STRICT)
class HeartRateIn(TypedDict):
    kind: Literal["heart_rate"]
    t: Rfc3339
    sensor: NotRequired[Sensor]
    bpm: Annotated[int, Field(ge=_BPM_MIN, le=_BPM_MAX)]
    rr_s: NotRequired[
        Annotated[
            list[Annotated[float, Field(ge=_RR_MIN_S, le=_RR_MAX_S)]] | None,
            Field(max_length=_RR_MAX_COUNT),
        ]
    ]
    contact: NotRequired[Literal["detected", "not_detected", "not_supported"] | None]


@with_config(_STRICT)
class StepsIn(TypedDict):
    kind: Literal["steps"]
    t: Rfc3339
    sensor: NotRequired[Sensor]
    steps: Annotated[int, Field(ge=0)]
    # One hour at most: the collector reports per-interval deltas, and longer intervals would blur
    # the minute grid the analysis builds.
    interval_s: Annotated[int, Field(ge=1, le=3600)]


@with_config(_STRICT)
class CadenceIn(TypedDict):
    kind: Literal["cadence"]
    t: Rfc3339
    sensor: NotRequired[Sensor]
    # 300 steps/min is above elite sprint cadence; RSC reports uint8 steps/min (GATT supplement).
    spm: Annotated[float, Field(ge=0, le=300)]
    running: NotRequired[bool | None]


@with_config(_STRICT)
class BikeIn(TypedDict):
    kind: Literal["bike"]
    t: Rfc3339
    sensor: NotRequired[Sensor]
    # Crank cadence above 250 rpm or power above 3,000 W is not a human on a home bike.
    rpm: Annotated[float, Field(ge=0, le=250)]
    power_w: NotRequired[Annotated[int | None, Field(ge=0, le=3000)]]


SampleIn = Annotated[HeartRateIn | StepsIn | CadenceIn | BikeIn, Discriminator("kind")]


@with_config(_STRICT)
class BatchIn(TypedDict):
    batch_id: UUID
    samples: Annotated[list[SampleIn], Field(min_length=1)]


BATCH_ADAPTER: TypeAdapter[BatchIn] = TypeAdapter(BatchIn)
