"""How a patient's day changes with the recovery stage.

Every function takes ``stage_week``, the recovery week, 1-based and fractional: 1.0 is the day
after surgery, week 1 is ``1 ≤ stage_week < 2``, week 3 starts at 3.0.
"""

from __future__ import annotations

import math

__all__ = [
    "recovery_progress",
    "ride_minutes_range",
    "ride_probability",
    "steps_fraction_of_baseline",
    "walk_cadence_spm",
    "walk_hrr_fraction",
    "walk_minutes_per_day",
]

# After lumbar surgery daily steps are about 70 % below the pre-surgery baseline in week 1 and
# recover over the following weeks (Master 2021, Arch Phys Med Rehabil 102(12), via DESIGN.md).
_WEEK1_FRACTION = 0.30
# Tunable default: recovery time constant of 6 weeks, so the deficit has shrunk to 0.70 · e^(−5/6)
# ≈ 30 % by the end of week 6 — ≈ 5,400 steps/day for the Fitabase median baseline, above the
# 3,500 steps/day that predicts a better 1-year outcome (Master 2021).
_RECOVERY_TAU_WEEKS = 6.0

# Regimen (DESIGN.md, "The regimen"): begin with 10–15 minutes of walking a day, rising to
# 20–30 minutes; the midpoints 12.5 and 25 minutes are reached at week 1 and week 6.
_WALK_MIN_START = 12.5
_WALK_MIN_FULL = 25.0
_RAMP_WEEKS = 5.0

# Tunable default: slow post-operative gait of ≈ 75 steps/min in week 1, back to ≈ 100 steps/min,
# the moderate-walking cadence (Tudor-Locke, CADENCE-Adults), once the ramp is complete.
_CADENCE_START_SPM = 75.0
_CADENCE_FULL_SPM = 100.0

# Walking intensity as a fraction of heart-rate reserve (Karvonen): light (30 % HRR) early, into
# the moderate band (40–59 % HRR, ACSM) once recovered. Tunable defaults.
_HRR_START = 0.30
_HRR_FULL = 0.45

# Tunable default: a stationary-bike ride on 35 % of days early (the regimen prefers the recumbent
# bike early), 25 % once walking has taken over.
_RIDE_P_START = 0.35
_RIDE_P_FULL = 0.25


def recovery_progress(stage_week: float) -> float:
    """0 during week 1 (and before surgery), rising linearly to 1 at the end of week 6."""
    return min(1.0, max(0.0, (stage_week - 2.0) / _RAMP_WEEKS))


def steps_fraction_of_baseline(stage_week: float) -> float:
    """Expected daily steps as a fraction of the pre-surgery baseline.

    ``stage_week`` is the recovery week, 1-based and fractional: the day after surgery is 1.0,
    week 1 is ``1 ≤ w < 2``. Values below 1 are before surgery, where the fraction is 1.
    """
    if stage_week < 1:
        return 1.0
    if stage_week < 2:
        return _WEEK1_FRACTION
    deficit = 1.0 - _WEEK1_FRACTION
    return 1.0 - deficit * math.exp(-(stage_week - 2.0) / _RECOVERY_TAU_WEEKS)


def walk_minutes_per_day(stage_week: float) -> float:
    """Planned minutes of deliberate walking a day."""
    return _WALK_MIN_START + (_WALK_MIN_FULL - _WALK_MIN_START) * recovery_progress(stage_week)


def walk_cadence_spm(stage_week: float) -> float:
    """Typical walking cadence in steps per minute."""
    return _CADENCE_START_SPM + (_CADENCE_FULL_SPM - _CADENCE_START_SPM) * recovery_progress(
        stage_week
    )


def walk_hrr_fraction(stage_week: float) -> float:
    """Typical walking heart rate as a fraction of heart-rate reserve."""
    return _HRR_START + (_HRR_FULL - _HRR_START) * recovery_progress(stage_week)


def ride_probability(stage_week: float) -> float:
    """Probability that a day includes a stationary-bike ride."""
    return _RIDE_P_START + (_RIDE_P_FULL - _RIDE_P_START) * recovery_progress(stage_week)


# Tunable default: rides of 10–20 minutes in week 1, 15–30 minutes once recovered, inside the
# regimen's 20–30 minutes of aerobic activity a day.
_RIDE_MIN_START = (10.0, 20.0)
_RIDE_MIN_FULL = (15.0, 30.0)


def ride_minutes_range(stage_week: float) -> tuple[float, float]:
    """Shortest and longest stationary-bike ride, in minutes."""
    r = recovery_progress(stage_week)
    return (
        _RIDE_MIN_START[0] + (_RIDE_MIN_FULL[0] - _RIDE_MIN_START[0]) * r,
        _RIDE_MIN_START[1] + (_RIDE_MIN_FULL[1] - _RIDE_MIN_START[1]) * r,
    )
