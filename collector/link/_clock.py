"""Monotonic notification timestamps turned into wall-clock times, anchored once per run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["ClockAnchor"]

_NS_PER_US = 1_000  # nanoseconds per microsecond (SI); datetime resolution is 1 µs


@dataclass(frozen=True, slots=True)
class ClockAnchor:
    """A pair of simultaneous readings of the monotonic and the wall clock.

    Notification callbacks stamp ``time.monotonic_ns()`` (immune to NTP steps); the consumer
    converts with one anchor taken at start, so a wall-clock step during a run cannot reorder
    or duplicate sample times.

    Parameters
    ----------
    monotonic_ns
        ``time.monotonic_ns()`` at the anchor.
    wall_ns
        ``time.time_ns()`` (ns since the Unix epoch, UTC) at the anchor.
    """

    monotonic_ns: int
    wall_ns: int

    @classmethod
    def now(cls) -> ClockAnchor:
        """Anchor at the current instant."""
        return cls(monotonic_ns=time.monotonic_ns(), wall_ns=time.time_ns())

    def wall_ns_of(self, monotonic_ns: int) -> int:
        """Wall time (ns since the Unix epoch) of a monotonic reading."""
        return self.wall_ns + (monotonic_ns - self.monotonic_ns)

    def to_datetime(self, monotonic_ns: int) -> datetime:
        """Aware UTC datetime of a monotonic reading, to the microsecond."""
        micros = self.wall_ns_of(monotonic_ns) // _NS_PER_US
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
