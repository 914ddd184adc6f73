"""Heart-rate intensity: HRmax, resting heart rate, reserve zones and the patient's limit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.config import IntensityThresholds

__all__ = ["HeartRateModel", "heart_rate_model", "resting_hr_estimate", "zone_minutes"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class HeartRateModel:
    """The heart-rate parameters a day is judged with, beats/min.

    Attributes
    ----------
    hr_max_bpm
        Maximum heart rate (clinician override or Tanaka 2001: 208 − 0.7·age).
    resting_bpm
        Resting heart rate (override or estimate; ``None`` when neither is available).
    resting_source
        ``override`` | ``estimated`` | ``none``.
    limit_bpm
        Heart-rate limit (``None`` when heart-rate rules are off or no resting rate is known).
    rules_active
        ``False`` for patients on beta-blockers: heart-rate rules are off.
    """

    hr_max_bpm: float
    resting_bpm: float | None
    resting_source: str
    limit_bpm: float | None
    rules_active: bool


def resting_hr_estimate(
    hr_mean_bpm: FloatArray, *, percentile: float, min_minutes: int
) -> float | None:
    """Estimate resting heart rate robustly from a day's minute means.

    Parameters
    ----------
    hr_mean_bpm
        Minute-mean heart rate of the worn minutes, beats/min (``nan`` where none).
    percentile
        Percentile (0 … 100) of the minute means taken as the resting rate.
    min_minutes
        Fewer minutes with heart rate give no estimate.

    Returns
    -------
    float or None
        Resting heart rate, beats/min.
    """
    values = hr_mean_bpm[~np.isnan(hr_mean_bpm)]
    if values.size < max(min_minutes, 1):
        return None
    # Lower order statistic of the percentile: np.partition is O(n), np.percentile sorts.
    k = int(np.floor(percentile / 100.0 * (values.size - 1)))
    return float(np.partition(values, k)[k])


def heart_rate_model(
    *,
    age_years: float,
    hr_mean_bpm: FloatArray,
    resting_override_bpm: float | None,
    max_override_bpm: float | None,
    limit_override_bpm: float | None,
    beta_blocker: bool,
    thresholds: IntensityThresholds,
) -> HeartRateModel:
    """Resolve HRmax, resting heart rate and the limit for one day.

    Parameters
    ----------
    age_years
        Age in years.
    hr_mean_bpm
        Minute-mean heart rate of the worn minutes, beats/min.
    resting_override_bpm, max_override_bpm, limit_override_bpm
        Clinician overrides, beats/min (``None``: derive).
    beta_blocker
        Turns heart-rate rules off.
    thresholds
        Intensity thresholds.

    Returns
    -------
    HeartRateModel
        The day's heart-rate parameters.
    """
    hr_max = (
        float(max_override_bpm)
        if max_override_bpm is not None
        else thresholds.tanaka_intercept_bpm - thresholds.tanaka_slope_bpm_per_year * age_years
    )
    if resting_override_bpm is not None:
        resting: float | None = float(resting_override_bpm)
        source = "override"
    else:
        resting = resting_hr_estimate(
            hr_mean_bpm,
            percentile=thresholds.resting_hr_percentile,
            min_minutes=thresholds.resting_hr_min_minutes,
        )
        source = "estimated" if resting is not None else "none"
    limit: float | None = None
    if not beta_blocker:
        if limit_override_bpm is not None:
            limit = float(limit_override_bpm)
        elif resting is not None:
            # A resting rate at or above HRmax (odd overrides) leaves no reserve: limit = resting.
            limit = resting + thresholds.hr_limit_reserve_fraction * max(hr_max - resting, 0.0)
    return HeartRateModel(
        hr_max_bpm=hr_max,
        resting_bpm=resting,
        resting_source=source,
        limit_bpm=limit,
        rules_active=not beta_blocker,
    )


def zone_minutes(
    hr_mean_bpm: FloatArray, *, model: HeartRateModel, thresholds: IntensityThresholds
) -> tuple[int, int, int] | None:
    """Minutes below 40 %, at 40–59 % and at or above 60 % of heart-rate reserve (Karvonen).

    Parameters
    ----------
    hr_mean_bpm
        Minute-mean heart rate of the worn minutes, beats/min.
    model
        The day's heart-rate parameters.
    thresholds
        Intensity thresholds (zone fractions).

    Returns
    -------
    tuple of int or None
        ``(light, moderate, vigorous)`` minutes; ``None`` when heart-rate rules are off or the
        resting rate is unknown.
    """
    if not model.rules_active or model.resting_bpm is None:
        return None
    # Floor of 1 bpm keeps the fraction finite when overrides leave no reserve (tunable default).
    reserve = max(model.hr_max_bpm - model.resting_bpm, 1.0)
    with np.errstate(invalid="ignore"):
        fraction = (hr_mean_bpm - model.resting_bpm) / reserve
        vigorous = int(np.count_nonzero(fraction >= thresholds.zone_vigorous_reserve_fraction))
        moderate = (
            int(np.count_nonzero(fraction >= thresholds.zone_moderate_reserve_fraction)) - vigorous
        )
    light = int(np.count_nonzero(~np.isnan(hr_mean_bpm))) - moderate - vigorous
    return light, moderate, vigorous
