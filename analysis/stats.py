"""Basic whole-day statistics of a minute grid: steps, wear, active minutes, heart rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.config import SessionThresholds, load_thresholds
from analysis.grid import MinuteGrid

__all__ = ["BasicDayStats", "active_minute_mask", "basic_day_stats"]


@dataclass(frozen=True)
class BasicDayStats:
    """Whole-day totals of one :class:`~analysis.grid.MinuteGrid`.

    Attributes
    ----------
    steps
        Total steps in the day, rounded to an integer.
    wear_minutes
        Minutes the band was worn.
    active_minutes
        Worn minutes walking at or above the cadence threshold or pedalling.
    hr_min_bpm, hr_avg_bpm, hr_max_bpm
        Lowest minute-mean, sample-weighted mean and highest sample heart rate, beats/min
        (``None`` when the day has no heart rate).
    """

    steps: int
    wear_minutes: int
    active_minutes: int
    hr_min_bpm: float | None
    hr_avg_bpm: float | None
    hr_max_bpm: float | None


def active_minute_mask(
    grid: MinuteGrid, *, thresholds: SessionThresholds | None = None
) -> npt.NDArray[np.bool_]:
    """Boolean mask of worn minutes spent walking (cadence ≥ threshold) or pedalling.

    Parameters
    ----------
    grid
        The day's minute grid.
    thresholds
        Walking cadence (steps/min) and crank cadence (rev/min) thresholds; default: the
        packaged ``thresholds.json``.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one element per minute.
    """
    th = thresholds if thresholds is not None else load_thresholds().sessions
    with np.errstate(invalid="ignore"):
        walking = grid.cadence_spm >= th.walk_min_cadence_spm
        biking = grid.bike_rpm >= th.bike_min_rpm
    return (walking | biking) & grid.worn


def basic_day_stats(
    grid: MinuteGrid, *, thresholds: SessionThresholds | None = None
) -> BasicDayStats:
    """Compute :class:`BasicDayStats` for one day.

    Parameters
    ----------
    grid
        The day's minute grid.
    thresholds
        Activity thresholds; default: the packaged ``thresholds.json``.

    Returns
    -------
    BasicDayStats
        The day's totals.
    """
    has_hr = grid.hr_count > 0
    if np.any(has_hr):
        counts = grid.hr_count[has_hr]
        means = grid.hr_mean_bpm[has_hr]
        hr_min: float | None = float(means.min())
        hr_avg: float | None = float(np.dot(means, counts) / counts.sum())
        hr_max: float | None = float(grid.hr_max_bpm[has_hr].max())
    else:
        hr_min = hr_avg = hr_max = None
    return BasicDayStats(
        steps=round(float(grid.steps.sum())),
        wear_minutes=int(np.count_nonzero(grid.worn)),
        active_minutes=int(np.count_nonzero(active_minute_mask(grid, thresholds=thresholds))),
        hr_min_bpm=hr_min,
        hr_avg_bpm=hr_avg,
        hr_max_bpm=hr_max,
    )
