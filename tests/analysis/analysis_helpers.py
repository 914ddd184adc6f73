"""Shared helpers for the analysis tests: building minute grids from a few literal samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis import MinuteGrid, build_minute_grid

#: 2026-05-10 00:00:00 UTC, a Sunday; all crafted days start here unless a test says otherwise.
DAY0_S = 1_778_371_200


def make_grid(
    *,
    day_start_s: int = DAY0_S,
    n_minutes: int = 1440,
    **arrays: Any,
) -> MinuteGrid:
    """Build a grid, defaulting every sample array to empty."""
    empty = np.zeros(0)
    names = (
        "hr_t_s",
        "hr_bpm",
        "steps_end_t_s",
        "steps_count",
        "steps_interval_s",
        "cadence_t_s",
        "cadence_spm",
        "cadence_running",
        "bike_t_s",
        "bike_rpm",
        "bike_power_w",
    )
    kwargs = {name: np.asarray(arrays.pop(name, empty), dtype=np.float64) for name in names}
    assert not arrays, f"unknown arrays {sorted(arrays)}"
    return build_minute_grid(day_start_s=day_start_s, n_minutes=n_minutes, **kwargs)
