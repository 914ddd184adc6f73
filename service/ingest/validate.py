"""Turn an uploaded body into columns ready for COPY, or reject it with every problem located."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from service.db.epoch import PG_EPOCH_S
from service.errors import PayloadTooLargeError, ValidationFailedError
from service.ingest.schema import BATCH_ADAPTER
from service.ingest.times import TimesError, times_us

__all__ = ["Columns", "ParsedBatch", "parse_batch"]

# WIRE_FORMAT.md: samples before 2000-01-01 are clock errors (a band that lost its RTC reports
# 1970); 2000-01-01 is also PostgreSQL's epoch, so the bound is 0 µs.
EARLIEST_SAMPLE_US = 0
# WIRE_FORMAT.md: allow 5 minutes of clock skew between hub and service.
MAX_FUTURE_US = 5 * 60 * 1_000_000
# Faster than 4 steps/s sustained over an interval is not walking or running (elite sprint
# cadence is about 4.5 steps/s for seconds, not minutes).
MAX_STEPS_PER_S = 4
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


def _loc(raw: tuple[int | str, ...]) -> list[int | str]:
    # pydantic puts the union tag into the location ("samples", 3, "heart_rate", "bpm"); the tag
    # repeats what the sample says about itself, so it is dropped: ["samples", 3, "bpm"].
    loc = list(raw)
    if (
        len(loc) >= 3
        and loc[0] == "samples"
        and loc[2] in ("heart_rate", "steps", "cadence", "bike")
    ):
        del loc[2]
    return loc


def _problem(error: Any) -> dict[str, Any]:
    loc = _loc(error["loc"])
    message = (
        _TIME_HINT
        if error["type"] == "string_pattern_mismatch" and loc[-1] == "t"
        else error["msg"]
    )
    return {"loc": loc, "msg": message}


def _fail(errors: list[dict[str, Any]]) -> ValidationFailedError:
    first = errors[0]
    where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in first["loc"])
    where = where.replace(".[", "[")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return ValidationFailedError(
        f"{where}: {first['msg']}{more}; nothing of this batch was stored",
        errors=errors[:_MAX_REPORTED_ERRORS],
        error_count=len(errors),
    )


def _at(index: int, field: str, message: str) -> tuple[int, dict[str, Any]]:
    return index, {"loc": ["samples", index, field], "msg": message}


def parse_batch(body: bytes, *, now: datetime, max_samples: int) -> ParsedBatch:
    """Validate ``body`` (JSON per WIRE_FORMAT.md) against the schema and the clock ``now``.

    Shapes and ranges are checked by pydantic; times, their window and the step plausibility
    are checked for the whole batch at once with numpy.
    """
    try:
        batch = BATCH_ADAPTER.validate_json(body)
    except ValidationError as exc:
        raise _fail([_problem(e) for e in exc.errors(include_url=False)]) from None
    samples = batch["samples"]
    if len(samples) > max_samples:
        raise PayloadTooLargeError(
            f"a batch holds at most {max_samples} samples, this one has {len(samples)}; "
            "split it into smaller batches",
            limit=max_samples,
        )
    try:
        t_us = times_us([s["t"] for s in samples])
    except TimesError as exc:
        raise _fail(
            [{"loc": ["samples", i, "t"], "msg": "no such date or time"} for i in exc.indexes]
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
    # One pass splits the samples by kind (a batch is usually one kind, so the lists stay long).
    by_kind: dict[str, list[Any]] = {"heart_rate": [], "steps": [], "cadence": [], "bike": []}
    where: dict[str, list[int]] = {kind: [] for kind in by_kind}
    for i, sample in enumerate(samples):
        by_kind[sample["kind"]].append(sample)
        where[sample["kind"]].append(i)
    index = {kind: np.array(positions, dtype=np.int64) for kind, positions in where.items()}

    def column(kind: str, field: str) -> list[Any]:
        # Optional fields (rr_s, running, power_w) come back as None when absent.
        return [sample.get(field) for sample in by_kind[kind]]

    def columns(kind: str, *fields: str) -> Columns:
        sensor = np.array([r.get("sensor", 0) for r in by_kind[kind]], dtype=np.int16)
        return Columns(t_us[index[kind]], sensor, tuple(column(kind, f) for f in fields))

    steps, interval = column("steps", "steps"), column("steps", "interval_s")
    implausible = np.flatnonzero(
        np.array(steps, dtype=np.int64) > MAX_STEPS_PER_S * np.array(interval, dtype=np.int64)
    )
    problems += [
        _at(
            int(index["steps"][i]),
            "steps",
            f"more than {MAX_STEPS_PER_S} steps per second over the interval",
        )
        for i in implausible
    ]
    if problems:
        raise _fail([problem for _, problem in sorted(problems, key=lambda p: p[0])])
    return ParsedBatch(
        batch_id=batch["batch_id"],
        n_samples=len(samples),
        heart_rate=columns("heart_rate", "bpm", "rr_s"),
        steps=columns("steps", "steps", "interval_s"),
        cadence=columns("cadence", "spm", "running"),
        bike=columns("bike", "rpm", "power_w"),
    )
