"""Turn an uploaded body into columns ready for COPY, or reject it with its problems located.

Shapes and ranges come from the wire schema the hub encodes with (:mod:`wire`, documented in
``WIRE_FORMAT.md`` beside this file); the checks that need the clock or another field are here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, Self
from uuid import UUID

import msgspec
import numpy as np
import numpy.typing as npt

from service.db.epoch import PG_EPOCH_S
from service.errors import PayloadTooLargeError, ValidationFailedError
from service.ingest.binary_copy import FLOAT4_ARRAY
from service.ingest.times import TimesError, times_us
from wire import BATCH_DECODER, KINDS, STEPS_PER_S_MAX, Bike, Cadence, HeartRate, Steps
from wire import Sample as SampleIn

__all__ = [
    "BikeColumns",
    "CadenceColumns",
    "HeartRateColumns",
    "ParsedBatch",
    "SampleColumns",
    "StepColumns",
    "parse_batch",
]

# WIRE_FORMAT.md: samples before 2000-01-01 are clock errors (a band that lost its RTC reports
# 1970); 2000-01-01 is also PostgreSQL's epoch, so the bound is 0 µs.
EARLIEST_SAMPLE_US = 0
# WIRE_FORMAT.md: allow 5 minutes of clock skew between hub and service.
MAX_FUTURE_US = 5 * 60 * 1_000_000
# Faster than 4 steps/s sustained over an interval is not walking or running (wire.STEPS_PER_S_MAX).
MAX_STEPS_PER_S = STEPS_PER_S_MAX
# A problem+json body lists at most this many problems; the count says how many there were.
_MAX_REPORTED_ERRORS = 50
_TIME_HINT = "must be an RFC 3339 time with an offset, e.g. 2026-05-10T09:00:01Z"

IntArray = npt.NDArray[np.int64]

_COPY_TYPES: dict[Any, str] = {np.int16: ">i2", np.int32: ">i4", np.float32: ">f4"}


@dataclass(frozen=True)
class SampleColumns:
    """The samples of one kind: times (µs since 2000-01-01 UTC), sensors and the value columns.

    Each subclass is one sample table: its value columns are its fields after ``t_us`` and
    ``sensor``, named like the table's columns, numpy arrays of the column's type where the
    column is NOT NULL, lists holding None for NULL where it is optional.
    """

    #: The sample table and its per-connection staging table (service.ingest.store).
    TABLE: ClassVar[str]
    STAGE: ClassVar[str]
    #: The COPY type of optional (list) columns; NOT NULL columns take theirs from the dtype.
    OPTIONAL: ClassVar[dict[str, str]] = {}

    t_us: IntArray
    sensor: npt.NDArray[np.int16]

    def __len__(self) -> int:
        return len(self.t_us)

    def value_names(self) -> tuple[str, ...]:
        """The value columns, in the order of the dataclass fields."""
        return tuple(f.name for f in fields(self)[2:])

    def copy_columns(self) -> list[tuple[npt.NDArray[Any] | list[Any], str, bool]]:
        """``(values, COPY type, optional)`` per value column, for ``binary_copy.batch_payload``."""
        out: list[tuple[npt.NDArray[Any] | list[Any], str, bool]] = []
        for name in self.value_names():
            values = getattr(self, name)
            if name in self.OPTIONAL:
                out.append((values, self.OPTIONAL[name], True))
            else:
                out.append((values, _COPY_TYPES[values.dtype.type], False))
        return out

    def take(self, order: npt.NDArray[np.intp]) -> Self:
        """These samples in the order of the indices ``order``."""
        rows = order.tolist()
        picked: dict[str, Any] = {
            f.name: value[order] if isinstance(value, np.ndarray) else [value[i] for i in rows]
            for f in fields(self)
            for value in (getattr(self, f.name),)
        }
        return replace(self, **picked)


@dataclass(frozen=True)
class HeartRateColumns(SampleColumns):
    TABLE: ClassVar[str] = "hr_samples"
    STAGE: ClassVar[str] = "stage_hr"
    OPTIONAL: ClassVar[dict[str, str]] = {"rr_s": FLOAT4_ARRAY}

    bpm: npt.NDArray[np.int16]
    rr_s: list[list[float] | None]


@dataclass(frozen=True)
class StepColumns(SampleColumns):
    TABLE: ClassVar[str] = "step_samples"
    STAGE: ClassVar[str] = "stage_steps"

    steps: npt.NDArray[np.int32]
    interval_s: npt.NDArray[np.int32]


@dataclass(frozen=True)
class CadenceColumns(SampleColumns):
    TABLE: ClassVar[str] = "cadence_samples"
    STAGE: ClassVar[str] = "stage_cadence"
    OPTIONAL: ClassVar[dict[str, str]] = {"running": "?"}

    spm: npt.NDArray[np.float32]
    running: list[bool | None]


@dataclass(frozen=True)
class BikeColumns(SampleColumns):
    TABLE: ClassVar[str] = "bike_samples"
    STAGE: ClassVar[str] = "stage_bike"
    OPTIONAL: ClassVar[dict[str, str]] = {"power_w": ">i2"}

    rpm: npt.NDArray[np.float32]
    power_w: list[int | None]


@dataclass(frozen=True)
class ParsedBatch:
    """A validated batch split into the columns of each sample table."""

    batch_id: UUID
    n_samples: int
    heart_rate: HeartRateColumns
    steps: StepColumns
    cadence: CadenceColumns
    bike: BikeColumns

    def per_table(self) -> tuple[SampleColumns, ...]:
        """The columns of every table, in the lock order (hr, steps, cadence, bike)."""
        return (self.heart_rate, self.steps, self.cadence, self.bike)


# msgspec names the first problem as "<message> - at `$.samples[3].bpm`".
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.(\w+)|\[(\d+)\]")
# Messages that name a field of the object at the path rather than the path itself.
_FIELD_MESSAGES = (
    (re.compile(r"^Object missing required field `(\w+)`$"), "field required"),
    (re.compile(r"^Object contains unknown field `(\w+)`$"), "unknown field"),
)
_KIND_TYPES: tuple[type[SampleIn], ...] = (HeartRate, Steps, Cadence, Bike)


def _problem(error: msgspec.ValidationError) -> dict[str, Any]:
    """msgspec's first problem as ``{"loc": ["samples", 3, "bpm"], "msg": "…"}``."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any string
    message = match["msg"]
    loc: list[int | str] = [
        name if name else int(index) for name, index in _PATH_PART.findall(match["path"] or "")
    ]
    for pattern, text in _FIELD_MESSAGES:
        if named := pattern.match(message):
            loc.append(named[1])
            message = text
    if loc[-1:] == ["kind"] and message.startswith("Invalid value "):
        value = message.removeprefix("Invalid value ")
        message = f"{value} is not a kind; expected one of {', '.join(KINDS)}"
    return {"loc": loc, "msg": message}


def _fail(errors: list[dict[str, Any]]) -> ValidationFailedError:
    first = errors[0]
    where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in first["loc"])
    where = where.replace(".[", "[")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return ValidationFailedError(
        f"{where + ': ' if where else ''}{first['msg']}{more}; nothing of this batch was stored",
        errors=errors[:_MAX_REPORTED_ERRORS],
        error_count=len(errors),
    )


def _at(index: int, field: str, message: str) -> tuple[int, dict[str, Any]]:
    return index, {"loc": ["samples", index, field], "msg": message}


def _sorted(problems: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [problem for _, problem in sorted(problems, key=lambda p: p[0])]


def _split_by_kind(
    samples: list[SampleIn],
) -> tuple[dict[type[SampleIn], list[Any]], dict[type[SampleIn], npt.NDArray[np.int64]]]:
    """The samples of each kind and their positions in the batch."""
    kinds = [type(sample) for sample in samples]
    if len(set(kinds)) == 1:  # the usual batch: one kind, no copying
        only = kinds[0]
        samples_of: dict[type[SampleIn], list[Any]] = {kind: [] for kind in _KIND_TYPES}
        samples_of[only] = samples
        index = {kind: np.zeros(0, dtype=np.int64) for kind in _KIND_TYPES}
        index[only] = np.arange(len(samples), dtype=np.int64)
        return samples_of, index
    samples_of = {kind: [] for kind in _KIND_TYPES}
    where: dict[type[SampleIn], list[int]] = {kind: [] for kind in _KIND_TYPES}
    for i, (kind, sample) in enumerate(zip(kinds, samples, strict=True)):
        samples_of[kind].append(sample)
        where[kind].append(i)
    return samples_of, {kind: np.array(where[kind], dtype=np.int64) for kind in _KIND_TYPES}


def parse_batch(body: bytes, *, now: datetime, max_samples: int) -> ParsedBatch:
    """Validate ``body`` (JSON per WIRE_FORMAT.md) against the schema and the clock ``now``.

    Shapes and ranges are checked by msgspec while decoding (the first problem is reported);
    times, their window and the step plausibility are checked for the whole batch at once with
    numpy (every problem is reported).
    """
    try:
        batch = BATCH_DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise _fail([_problem(exc)]) from None
    except msgspec.DecodeError as exc:
        raise _fail([{"loc": [], "msg": f"the body is not valid JSON ({exc})"}]) from None
    samples = batch.samples
    if len(samples) > max_samples:
        raise PayloadTooLargeError(
            f"a batch holds at most {max_samples} samples, this one has {len(samples)}; "
            "split it into smaller batches",
            limit=max_samples,
        )
    try:
        t_us = times_us([s.t for s in samples])
    except TimesError as exc:
        raise _fail(
            _sorted(
                [_at(i, "t", _TIME_HINT) for i in exc.malformed]
                + [_at(i, "t", "no such date or time") for i in exc.impossible]
            )
        ) from None
    # Float seconds carry about 0.1 µs of error here: far below the 5-minute allowance.
    latest_us = round((now.timestamp() - PG_EPOCH_S) * 1e6) + MAX_FUTURE_US
    problems = [
        _at(int(i), "t", "time is before 2000-01-01")
        for i in np.flatnonzero(t_us < EARLIEST_SAMPLE_US)
    ]
    problems += [
        _at(int(i), "t", "time is more than 5 minutes in the future")
        for i in np.flatnonzero(t_us > latest_us)
    ]
    samples_of, index = _split_by_kind(samples)

    def column(kind: type[SampleIn], field: str) -> list[Any]:
        # Optional fields (rr_s, running, power_w) are None when absent.
        return list(map(attrgetter(field), samples_of[kind]))

    def times(kind: type[SampleIn]) -> tuple[IntArray, npt.NDArray[np.int16]]:
        return t_us[index[kind]], np.array(column(kind, "sensor"), dtype=np.int16)

    steps, interval = column(Steps, "steps"), column(Steps, "interval_s")
    implausible = np.flatnonzero(
        np.array(steps, dtype=np.int64) > MAX_STEPS_PER_S * np.array(interval, dtype=np.int64)
    )
    problems += [
        _at(
            int(index[Steps][i]),
            "steps",
            f"more than {MAX_STEPS_PER_S} steps per second over the interval",
        )
        for i in implausible
    ]
    if problems:
        raise _fail(_sorted(problems))
    return ParsedBatch(
        batch_id=batch.batch_id,
        n_samples=len(samples),
        heart_rate=HeartRateColumns(
            *times(HeartRate),
            bpm=np.array(column(HeartRate, "bpm"), dtype=np.int16),
            rr_s=column(HeartRate, "rr_s"),
        ),
        steps=StepColumns(
            *times(Steps),
            steps=np.array(steps, dtype=np.int32),
            interval_s=np.array(interval, dtype=np.int32),
        ),
        cadence=CadenceColumns(
            *times(Cadence),
            spm=np.array(column(Cadence, "spm"), dtype=np.float32),
            running=column(Cadence, "running"),
        ),
        bike=BikeColumns(
            *times(Bike),
            rpm=np.array(column(Bike, "rpm"), dtype=np.float32),
            power_w=column(Bike, "power_w"),
        ),
    )
