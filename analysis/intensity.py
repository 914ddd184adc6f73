"""Heart-rate intensity: HRmax, resting heart rate, reserve zones and the patient's limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis.config import IntensityThresholds, Phase

__all__ = [
    "HeartRateModel",
    "LimitBasis",
    "RestingSource",
    "heart_rate_model",
    "resting_hr_estimate",
    "zone_minutes",
]

FloatArray = npt.NDArray[np.float64]


#: Where the resting heart rate came from: the patient's setting, the day's own estimate, the
#: median of recent days' own estimates, or nowhere.
RestingSource = Literal["override", "estimated", "recent_days", "none"]
#: How the limit was set: a clinician's value, a fraction of the heart-rate reserve above the
#: resting rate (Karvonen), or a fraction of HRmax when no resting rate is known.
LimitBasis = Literal["override", "heart_rate_reserve", "hr_max"]


@dataclass(frozen=True, kw_only=True)
class HeartRateModel:
    """The heart-rate parameters a day is judged with, beats/min.

    Attributes
    ----------
    hr_max_bpm
        Maximum heart rate (clinician override or Tanaka 2001: 208 − 0.7·age).
    resting_bpm
        Resting heart rate (``None`` when none is known).
    resting_source
        ``override`` | ``estimated`` | ``recent_days`` | ``none``.
    limit_bpm
        Heart-rate limit (``None`` only when heart-rate rules are off).
    limit_basis
        ``override`` | ``heart_rate_reserve`` | ``hr_max`` (``None`` without a limit).
    limit_fraction
        Fraction of the reserve or of HRmax the limit stands at (``None`` for an override).
    rules_active
        ``False`` for patients on beta-blockers: heart-rate rules are off.
    rules_checked
        Whether heart rate is checked against a limit today (rules on and heart rate present).
    not_checked_reason
        Plain language: which heart-rate rules cannot run today and why (``None``: all can).
    """

    hr_max_bpm: float
    resting_bpm: float | None
    resting_source: RestingSource
    limit_bpm: float | None
    limit_basis: LimitBasis | None
    limit_fraction: float | None
    rules_active: bool
    rules_checked: bool
    not_checked_reason: str | None


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
    recent_resting_bpm: float | None,
    max_override_bpm: float | None,
    limit_override_bpm: float | None,
    beta_blocker: bool,
    phase: Phase,
    thresholds: IntensityThresholds,
) -> HeartRateModel:
    """Resolve HRmax, resting heart rate and the limit for one day.

    The resting rate is the clinician's setting, else the day's own estimate, else the median
    of recent days' own estimates (``recent_resting_bpm``). Without any, the limit is a
    fraction of HRmax (ACSM: 60 % HRR ≈ 77 % HRmax), so heart rate is still checked.

    Parameters
    ----------
    age_years
        Age in years.
    hr_mean_bpm
        Minute-mean heart rate of the worn minutes, beats/min.
    resting_override_bpm, max_override_bpm, limit_override_bpm
        Clinician overrides, beats/min (``None``: derive).
    recent_resting_bpm
        Median resting rate of recent days' own estimates, beats/min (``None``: too few).
    beta_blocker
        Turns heart-rate rules off.
    phase
        Plan phase of the day: the limit's fraction follows it.
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
    resting: float | None = None
    source: RestingSource = "none"
    if resting_override_bpm is not None:
        resting, source = float(resting_override_bpm), "override"
    else:
        resting = resting_hr_estimate(
            hr_mean_bpm,
            percentile=thresholds.resting_hr_percentile,
            min_minutes=thresholds.resting_hr_min_minutes,
        )
        if resting is not None:
            source = "estimated"
        elif recent_resting_bpm is not None:
            resting, source = float(recent_resting_bpm), "recent_days"
    has_hr = bool(np.any(~np.isnan(hr_mean_bpm)))
    if beta_blocker:
        return HeartRateModel(
            hr_max_bpm=hr_max,
            resting_bpm=resting,
            resting_source=source,
            limit_bpm=None,
            limit_basis=None,
            limit_fraction=None,
            rules_active=False,
            rules_checked=False,
            not_checked_reason="heart-rate rules are off: beta-blocker",
        )
    limit, basis, fraction = _limit(
        hr_max=hr_max,
        resting=resting,
        limit_override_bpm=limit_override_bpm,
        phase=phase,
        thresholds=thresholds,
    )
    few = f"fewer than {thresholds.resting_hr_min_minutes} minutes of heart rate today"
    reasons = []
    if not has_hr:
        reasons.append("no heart rate recorded today")
    elif source == "none":
        reasons.append(f"no resting heart rate known: {few} and none on recent days")
        if basis == "hr_max" and fraction is not None:
            reasons.append(f"the limit is {100 * fraction:.0f} % of maximum heart rate")
        reasons.append("resting heart rate rise not checked")
    elif source == "recent_days":
        reasons.append(f"{few}: resting heart rate from recent days, its rise not checked")
    return HeartRateModel(
        hr_max_bpm=hr_max,
        resting_bpm=resting,
        resting_source=source,
        limit_bpm=limit,
        limit_basis=basis,
        limit_fraction=fraction,
        rules_active=True,
        rules_checked=has_hr,
        not_checked_reason="; ".join(reasons) if reasons else None,
    )


def _limit(
    *,
    hr_max: float,
    resting: float | None,
    limit_override_bpm: float | None,
    phase: Phase,
    thresholds: IntensityThresholds,
) -> tuple[float, LimitBasis, float | None]:
    """The limit, its basis and its fraction (of the reserve or of HRmax)."""
    if limit_override_bpm is not None:
        return float(limit_override_bpm), "override", None
    if resting is None:
        fraction = thresholds.hr_limit_max_fraction.of(phase)
        return fraction * hr_max, "hr_max", fraction
    fraction = thresholds.hr_limit_reserve_fraction.of(phase)
    # A resting rate at or above HRmax (odd overrides) leaves no reserve: limit = resting.
    return resting + fraction * max(hr_max - resting, 0.0), "heart_rate_reserve", fraction


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
