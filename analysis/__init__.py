"""Pure analysis of a patient's activity: minute grids, sessions, intensity, plan checks and flags.

Imports numpy and the standard library only: no database, web, Bluetooth, environment or clock.
Times are epoch seconds (UTC); the service turns a patient-local calendar day into
``day_start_s`` and ``n_minutes`` (1,380 / 1,440 / 1,500) before calling in.

Usage
-----
>>> grid = build_minute_grid(day_start_s=..., n_minutes=1440, hr_t_s=..., hr_bpm=..., ...)
>>> stats = basic_day_stats(grid)   # steps, wear_minutes, active_minutes, hr_min/avg/max_bpm
"""

from __future__ import annotations

from analysis.errors import AnalysisError, InputError, PlanError
from analysis.grid import MinuteGrid, build_minute_grid, wear_mask
from analysis.stats import BasicDayStats, active_minute_mask, basic_day_stats

__all__ = [
    "AnalysisError",
    "BasicDayStats",
    "InputError",
    "MinuteGrid",
    "PlanError",
    "active_minute_mask",
    "basic_day_stats",
    "build_minute_grid",
    "wear_mask",
]
