"""InfiniTime (PineTime) Motion Service: the daily step counter.

InfiniTime's Motion Service ``00030000-78fc-48fe-8e23-433b3a1942d0`` exposes Step Count
``00030001-…`` as a uint32 little-endian count of steps taken today; the watch notifies on every
change and resets the count at local midnight (InfiniTime ``doc/MotionService.md``).
Turning the cumulative count into per-interval steps is :class:`collector.counters.StepCounter`'s
job.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.profiles._reader import Payload, Reader

__all__ = [
    "INFINITIME_MOTION_SERVICE_UUID",
    "INFINITIME_STEP_COUNT_UUID",
    "InfiniTimeSteps",
    "parse_step_count",
]

# InfiniTime doc/MotionService.md: vendor 128-bit UUIDs on the InfiniTime base UUID.
INFINITIME_MOTION_SERVICE_UUID = "00030000-78fc-48fe-8e23-433b3a1942d0"
INFINITIME_STEP_COUNT_UUID = "00030001-78fc-48fe-8e23-433b3a1942d0"

_NAME = "InfiniTime Step Count"


@dataclass(frozen=True, slots=True)
class InfiniTimeSteps:
    """The watch's step counter.

    Attributes
    ----------
    steps_today : int
        Steps counted since local midnight on the watch (uint32).
    """

    steps_today: int


def parse_step_count(data: Payload) -> InfiniTimeSteps:
    """Decode an InfiniTime Step Count notification (exactly 4 bytes).

    Raises
    ------
    PayloadError
        If the payload is not exactly 4 bytes.
    """
    reader = Reader(data, characteristic=_NAME)
    steps_today = reader.u32("step count")
    reader.expect_end()
    return InfiniTimeSteps(steps_today=steps_today)
