"""Turn an uploaded body into columns ready for COPY, or reject it with its problems located.

Shapes and ranges come from the wire schema the hub encodes with (:mod:`wire`, documented in
``WIRE_FORMAT.md`` beside this file); the checks that need the clock or another field are here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

import msgspec
import numpy as np
import numpy.typing as npt

from service.db.epoch import PG_EPOCH_S
from service.errors import PayloadTooLargeError, ValidationFailedError
from service.ingest.times import TimesError, times_us
from wire import BATCH_DECODER, KINDS, STEPS_PER_S_MAX, Bike, Cadence, HeartRate, Steps
from wire import Sample as SampleIn

__all__ = ["Columns", "ParsedBatch", "parse_batch"]

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


@dataclass(frozen=True)
class Columns:
    """The samples of one kind: times (µs since 2000-01-01 UTC), sensors and value columns."""

    t_us: IntArray
    sensor: npt.NDArray[np.int16]
    values: tuple[list[Any], ...]

    def __len__(self) -> int:
        return len(self.t_us)


@dataclass(frozen=True)
class ParsedBatch:
    """A validated batch split into per-table columns (table column order, minus device and t)."""

    batch_id: UUID
    n_samples: int
    heart_rate: Columns  # bpm, rr_s
    steps: Columns  # steps, interval_s
    cadence: Columns  # spm, running
    bike: Columns  # rpm, power_w


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

    def columns(kind: type[SampleIn], *fields: str) -> Columns:
        sensor = np.array(column(kind, "sensor"), dtype=np.int16)
        return Columns(t_us[index[kind]], sensor, tuple(column(kind, f) for f in fields))

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
        heart_rate=columns(HeartRate, "bpm", "rr_s"),
        steps=columns(Steps, "steps", "interval_s"),
        cadence=columns(Cadence, "spm", "running"),
        bike=columns(Bike, "rpm", "power_w"),
    )
