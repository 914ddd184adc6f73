"""Simulated patients: age, heart-rate limits and pre-surgery daily steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_PROFILE", "PatientProfile", "hr_max_bpm_for_age", "sample_profile"]

# Baseline (pre-surgery) daily steps, calibrated on the Fitabase daily totals
# (../shared/data/fitbit-fitabase/dailyActivity_merged.csv, Furberg et al. 2016): the per-person
# median of the non-zero days, over 33 people, has median 7,833 and IQR 5,394–10,190 steps/day
# (all 863 non-zero person-days: median 8,053, IQR 4,923–11,093). A log-normal with that median
# and sigma = ln(10,190 / 5,394) / 1.349 ≈ 0.47 reproduces the IQR.
_BASELINE_STEPS_MEDIAN = 7_833
_BASELINE_STEPS_LOG_SIGMA = 0.47
# Clipped to the 0th–100th percentile range of those 33 per-person medians (1,675–15,118),
# rounded outwards.
_BASELINE_STEPS_RANGE = (1_500, 15_500)

# Age of people having lumbar spine surgery: 62.8 ± 11.4 years (Master 2021, 248 participants).
_AGE_MEAN_YEARS = 62.8
_AGE_SD_YEARS = 11.4
# Tunable default: adults only, and no older than the oldest plausible home user of the band.
_AGE_RANGE_YEARS = (25.0, 90.0)

# Resting heart rate: the 5th percentile of each Fitabase heart-rate user's second-level samples
# (heartrate_seconds_8users.csv.gz) ranges 49–71 bpm, median 60 bpm; a normal with mean 62 bpm
# and SD 6 bpm, clipped to 48–85 bpm, covers that spread.
_RESTING_HR_MEAN_BPM = 62.0
_RESTING_HR_SD_BPM = 6.0
_RESTING_HR_RANGE_BPM = (48.0, 85.0)


def hr_max_bpm_for_age(age_years: float) -> float:
    """Age-predicted maximal heart rate, ``208 − 0.7 · age`` (Tanaka, Monahan & Seals 2001)."""
    return 208.0 - 0.7 * age_years


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """One simulated patient: age in years, resting and maximal heart rate in beats per minute,
    pre-surgery daily steps and the pace of their recovery."""

    age_years: float
    resting_hr_bpm: float
    hr_max_bpm: float
    baseline_steps_per_day: int
    # How fast the daily steps recover after surgery: 1.0 follows the recovery curve, 0.4 is a
    # slow recoverer whose steps take 2.5 times as long to come back (tunable default for demos).
    recovery_pace: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.recovery_pace <= 1:
            raise ValueError(f"recovery_pace must be in (0, 1], got {self.recovery_pace}")
        if not 0 < self.resting_hr_bpm < self.hr_max_bpm:
            raise ValueError(
                f"need 0 < resting_hr_bpm < hr_max_bpm, got {self.resting_hr_bpm} and "
                f"{self.hr_max_bpm}"
            )
        if self.baseline_steps_per_day < 0:
            raise ValueError(
                f"baseline_steps_per_day must be ≥ 0, got {self.baseline_steps_per_day}"
            )

    @property
    def hr_reserve_bpm(self) -> float:
        """Heart-rate reserve, ``HRmax − HRrest`` (Karvonen)."""
        return self.hr_max_bpm - self.resting_hr_bpm


# The cohort's mean age (Master 2021), the resting-HR mean above, the Fitabase baseline median.
DEFAULT_PROFILE = PatientProfile(
    age_years=_AGE_MEAN_YEARS,
    resting_hr_bpm=_RESTING_HR_MEAN_BPM,
    hr_max_bpm=hr_max_bpm_for_age(_AGE_MEAN_YEARS),
    baseline_steps_per_day=_BASELINE_STEPS_MEDIAN,
)


def sample_profile(
    rng: np.random.Generator,
    *,
    age_years: float | None = None,
    baseline_steps_per_day: int | None = None,
) -> PatientProfile:
    """Draw a patient from the distributions above; given values are kept as they are."""
    drawn_age = float(np.clip(rng.normal(_AGE_MEAN_YEARS, _AGE_SD_YEARS), *_AGE_RANGE_YEARS))
    age = drawn_age if age_years is None else float(age_years)
    resting = float(
        np.clip(rng.normal(_RESTING_HR_MEAN_BPM, _RESTING_HR_SD_BPM), *_RESTING_HR_RANGE_BPM)
    )
    drawn_steps = _BASELINE_STEPS_MEDIAN * np.exp(rng.normal(0.0, _BASELINE_STEPS_LOG_SIGMA))
    steps = int(np.clip(drawn_steps, *_BASELINE_STEPS_RANGE))
    return PatientProfile(
        age_years=round(age, 1),
        resting_hr_bpm=round(resting, 1),
        hr_max_bpm=round(hr_max_bpm_for_age(age), 1),
        baseline_steps_per_day=steps if baseline_steps_per_day is None else baseline_steps_per_day,
    )
