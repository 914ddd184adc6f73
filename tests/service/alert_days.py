"""Whole day summaries carrying given flags, for the alert tests (stored as the worker stores
them, through :func:`service.summaries.store_summary`)."""

from __future__ import annotations

from datetime import date

import analysis
from tests.fixtures.summaries import day_summary

__all__ = ["flagged_day"]

# Aerobic minutes of a day of each status against the builder's 15–20 min plan.
_MINUTES: dict[analysis.DayStatus, int] = {
    "in_progress": 0,
    "insufficient_data": 0,
    "pre_operative": 17,
    "below": 5,
    "on_track": 17,
    "above": 30,
}


def flagged_day(
    day: date,
    *codes: analysis.FlagCode,
    status: analysis.DayStatus = "on_track",
    severity: analysis.Severity = "warning",
) -> analysis.DaySummary:
    """A whole summary of ``day`` with ``status`` and a ``severity`` flag of each of ``codes``."""
    flags = tuple(
        analysis.Flag(code=c, severity=severity, message=f"{c} message", evidence={}) for c in codes
    )
    return day_summary(day, minutes=_MINUTES[status], status=status, flags=flags)
