"""Shared helpers for the analysis tests: building minute grids from a few literal samples."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from analysis import MinuteGrid, PatientProfile, build_minute_grid

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


def walking_grid(
    *,
    active: list[tuple[int, int]],
    cadence_spm: float = 100.0,
    day_start_s: int = DAY0_S,
    n_minutes: int = 1440,
    hr_bpm: float = 70.0,
    hr_during_bpm: float | None = None,
    worn_all_day: bool = True,
    running: bool = False,
) -> MinuteGrid:
    """A grid worn all day (heart rate every minute) with walking in the ``[start, end)`` minutes.

    Steps are one aligned 60 s sample per walking minute (``cadence_spm`` steps), so the
    cadence of those minutes equals ``cadence_spm``.
    """
    minutes = np.arange(n_minutes)
    walk = np.zeros(n_minutes, dtype=bool)
    for start, end in active:
        walk[start:end] = True
    hr = np.full(n_minutes, hr_bpm)
    if hr_during_bpm is not None:
        hr[walk] = hr_during_bpm
    hr_minutes = minutes if worn_all_day else np.flatnonzero(walk)
    walk_minutes = np.flatnonzero(walk)
    return make_grid(
        day_start_s=day_start_s,
        n_minutes=n_minutes,
        hr_t_s=day_start_s + 60.0 * hr_minutes + 30,
        hr_bpm=hr[hr_minutes],
        steps_end_t_s=day_start_s + 60.0 * (walk_minutes + 1),
        steps_count=np.full(walk_minutes.size, cadence_spm),
        steps_interval_s=np.full(walk_minutes.size, 60.0),
        cadence_t_s=day_start_s + 60.0 * walk_minutes + 5 if running else [],
        cadence_spm=np.full(walk_minutes.size, cadence_spm) if running else [],
        cadence_running=np.ones(walk_minutes.size) if running else [],
    )


def patient(**overrides: Any) -> PatientProfile:
    """A 66-year-old after endoscopic discectomy on 2026-05-01 (standard ramp), with overrides."""
    fields: dict[str, Any] = {
        "birth_year": 1960,
        "surgery_type": "discectomy",
        "approach": "endoscopic",
        "surgery_date": date(2026, 5, 1),
    }
    fields.update(overrides)
    return PatientProfile(**fields)
