"""Neighbouring days around a grid, so that a session crossing midnight is seen whole."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analysis.errors import InputError
from analysis.grid import SECONDS_PER_MINUTE, MinuteGrid

__all__ = ["extend_grid"]

_ARRAYS = (
    "steps", "hr_mean_bpm", "hr_max_bpm", "hr_count", "cadence_spm", "running",
    "bike_rpm", "bike_power_w", "worn",
)  # fmt: skip


def extend_grid(
    grid: MinuteGrid,
    *,
    previous_grid: MinuteGrid | None,
    next_grid: MinuteGrid | None,
    context_min: int,
) -> tuple[MinuteGrid, int, int]:
    """Concatenate up to ``context_min`` minutes of the neighbouring days around ``grid``.

    Returns
    -------
    tuple
        The extended grid, and the index range ``[first, stop)`` of ``grid``'s own minutes.

    Raises
    ------
    InputError
        If a neighbouring grid does not end where ``grid`` starts (or start where it ends).
    """
    if previous_grid is None and next_grid is None:
        return grid, 0, grid.n_minutes
    parts: list[MinuteGrid] = []
    first = 0
    if previous_grid is not None:
        if previous_grid.day_end_s != grid.day_start_s:
            raise InputError("previous_grid must end where grid starts", field="previous_grid")
        take = min(context_min, previous_grid.n_minutes)
        parts.append(_slice(previous_grid, previous_grid.n_minutes - take, previous_grid.n_minutes))
        first = take
    parts.append(grid)
    if next_grid is not None:
        if next_grid.day_start_s != grid.day_end_s:
            raise InputError("next_grid must start where grid ends", field="next_grid")
        parts.append(_slice(next_grid, 0, min(context_min, next_grid.n_minutes)))
    arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS}
    total = sum(p.n_minutes for p in parts)
    wide = replace(
        grid, day_start_s=grid.day_start_s - SECONDS_PER_MINUTE * first, n_minutes=total, **arrays
    )
    return wide, first, first + grid.n_minutes


def _slice(grid: MinuteGrid, lo: int, hi: int) -> MinuteGrid:
    """Minutes ``[lo, hi)`` of a grid."""
    return MinuteGrid(
        day_start_s=grid.day_start_s + SECONDS_PER_MINUTE * lo,
        n_minutes=hi - lo,
        steps=grid.steps[lo:hi],
        hr_mean_bpm=grid.hr_mean_bpm[lo:hi],
        hr_max_bpm=grid.hr_max_bpm[lo:hi],
        hr_count=grid.hr_count[lo:hi],
        cadence_spm=grid.cadence_spm[lo:hi],
        running=grid.running[lo:hi],
        bike_rpm=grid.bike_rpm[lo:hi],
        bike_power_w=grid.bike_power_w[lo:hi],
        worn=grid.worn[lo:hi],
    )
