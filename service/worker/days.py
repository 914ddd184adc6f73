"""Patient-local calendar days: a day is midnight to midnight in the patient's IANA time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DayBounds", "day_bounds", "local_day"]


@dataclass(frozen=True)
class DayBounds:
    day: date
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive

    @property
    def n_minutes(self) -> int:
        """1,440 on most days; 1,380 or 1,500 on daylight-saving change days."""
        return int((self.end - self.start).total_seconds()) // 60

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())


def day_bounds(day: date, tz: str) -> DayBounds:
    """UTC bounds of local ``day`` in ``tz``.

    ``datetime.combine`` with a ``ZoneInfo`` resolves local midnight with PEP 495 semantics, so
    zones whose DST change happens at midnight get the first valid instant of the day.
    """
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return DayBounds(day=day, start=start, end=end)


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()
