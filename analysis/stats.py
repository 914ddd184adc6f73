"""Basic whole-day statistics of a minute grid: steps, wear, active minutes, heart rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.grid import MinuteGrid

__all__ = [
    "DEFAULT_BIKE_MIN_RPM",
    "DEFAULT_WALK_MIN_CADENCE_SPM",
    "BasicDayStats",
    "active_minute_mask",
    "basic_day_stats",
]

#: Walking minutes count as active at or above this cadence, steps/min (issue §2 default;
#: Tudor-Locke CADENCE-Adults puts purposeful walking above ~60 steps/min).
DEFAULT_WALK_MIN_CADENCE_SPM = 60.0
#: Pedalling minutes count as active at or above this crank cadence, rev/min (tunable default:
#: recumbent-bike rehabilitation protocols start around 50–60 rpm; 30 rpm rejects idle spinning).
DEFAULT_BIKE_MIN_RPM = 30.0


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
    grid: MinuteGrid,
    *,
    walk_min_cadence_spm: float = DEFAULT_WALK_MIN_CADENCE_SPM,
    bike_min_rpm: float = DEFAULT_BIKE_MIN_RPM,
) -> np.ndarray:
    """Boolean mask of worn minutes spent walking (cadence ≥ threshold) or pedalling.

    Parameters
    ----------
    grid
        The day's minute grid.
    walk_min_cadence_spm
        Walking cadence threshold, steps/min.
    bike_min_rpm
        Crank cadence threshold, revolutions/min.

    Returns
    -------
    numpy.ndarray
        Boolean mask, one element per minute.
    """
    with np.errstate(invalid="ignore"):
        walking = grid.cadence_spm >= walk_min_cadence_spm
        biking = grid.bike_rpm >= bike_min_rpm
    return (walking | biking) & grid.worn


def basic_day_stats(grid: MinuteGrid) -> BasicDayStats:
    """Compute :class:`BasicDayStats` for one day.

    Parameters
    ----------
    grid
        The day's minute grid.

    Returns
    -------
    BasicDayStats
        Totals with the default thresholds (60 steps/min walking, 30 rev/min pedalling).
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
        active_minutes=int(np.count_nonzero(active_minute_mask(grid))),
        hr_min_bpm=hr_min,
        hr_avg_bpm=hr_avg,
        hr_max_bpm=hr_max,
    )
