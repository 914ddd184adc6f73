"""Turn an uploaded body into columns ready for COPY, or reject it with every problem located."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from service.errors import PayloadTooLargeError, ValidationFailedError
from service.ingest.schema import BATCH_ADAPTER

__all__ = ["ParsedBatch", "parse_batch"]

# WIRE_FORMAT.md: samples before 2000-01-01 are clock errors (a band that lost its RTC reports 1970).
EARLIEST_SAMPLE = datetime(2000, 1, 1, tzinfo=UTC)
# WIRE_FORMAT.md: allow 5 minutes of clock skew between hub and service.
MAX_FUTURE = timedelta(minutes=5)
# Faster than 4 steps/s sustained over an interval is not walking or running (elite sprint
# cadence is about 4.5 steps/s for seconds, not minutes).
MAX_STEPS_PER_S = 4
# A problem+json body lists at most this many problems; the count says how many there were.
_MAX_REPORTED_ERRORS = 50


@dataclass
class ParsedBatch:
    """A validated batch split into per-table rows (tuples in table column order, minus device)."""

    batch_id: UUID
    n_samples: int
    heart_rate: list[tuple[datetime, int, list[float] | None]] = field(default_factory=list)
    steps: list[tuple[datetime, int, int]] = field(default_factory=list)
    cadence: list[tuple[datetime, float, bool | None]] = field(default_factory=list)
    bike: list[tuple[datetime, float, int | None]] = field(default_factory=list)


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


def parse_batch(body: bytes, *, now: datetime, max_samples: int) -> ParsedBatch:
    """Validate ``body`` (JSON per WIRE_FORMAT.md) against the schema and the clock ``now``."""
    try:
        batch = BATCH_ADAPTER.validate_json(body)
    except ValidationError as exc:
        raise _fail(
            [{"loc": _loc(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]
        ) from None
    samples = batch["samples"]
    if len(samples) > max_samples:
        raise PayloadTooLargeError(
            f"a batch holds at most {max_samples} samples, this one has {len(samples)}; "
            "split it into smaller batches",
            limit=max_samples,
        )
    latest = now + MAX_FUTURE
    parsed = ParsedBatch(batch_id=batch["batch_id"], n_samples=len(samples))
    errors: list[dict[str, Any]] = []
    for index, sample in enumerate(samples):
        t = sample["t"]
        if t < EARLIEST_SAMPLE:
            errors.append({"loc": ["samples", index, "t"], "msg": "time is before 2000-01-01"})
            continue
        if t > latest:
            errors.append(
                {"loc": ["samples", index, "t"], "msg": "time is more than 5 minutes in the future"}
            )
            continue
        if sample["kind"] == "heart_rate":
            parsed.heart_rate.append((t, sample["bpm"], sample.get("rr_s")))
        elif sample["kind"] == "steps":
            if sample["steps"] > MAX_STEPS_PER_S * sample["interval_s"]:
                errors.append(
                    {
                        "loc": ["samples", index, "steps"],
                        "msg": f"more than {MAX_STEPS_PER_S} steps per second over the interval",
                    }
                )
                continue
            parsed.steps.append((t, sample["steps"], sample["interval_s"]))
        elif sample["kind"] == "cadence":
            parsed.cadence.append((t, sample["spm"], sample.get("running")))
        else:
            parsed.bike.append((t, sample["rpm"], sample.get("power_w")))
    if errors:
        raise _fail(errors)
    return parsed
