"""The shape of a simulated day, minute by minute: sleep, band off the wrist, walks and a ride."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.simulator._recovery import (
    ride_minutes_range,
    ride_probability,
    walk_minutes_per_day,
)

__all__ = ["Timeline", "draw_timeline"]

BoolArray = npt.NDArray[np.bool_]

# Tunable defaults for the daily rhythm, in minutes after local midnight: waking around 07:00 and
# going to bed around 22:45, each with a 40-minute standard deviation, clipped to plausible hours.
_WAKE_MEAN_MIN, _WAKE_SD_MIN, _WAKE_RANGE_MIN = 420.0, 40.0, (330.0, 570.0)
_BED_MEAN_MIN, _BED_SD_MIN, _BED_RANGE_MIN = 1365.0, 40.0, (1260.0, 1435.0)
# Tunable default: the band is worn through the night on 70 % of nights; otherwise it comes off
# 15 minutes before bed and goes back on 15 minutes after waking.
_P_NIGHT_WEAR = 0.7
_NIGHT_OFF_MARGIN_MIN = 15
# Tunable default: a charging break of 60–120 minutes on 70 % of days — a non-wear gap by the
# ≥ 60-minute rule (DESIGN.md, "Useful published numbers").
_P_CHARGE = 0.7
_CHARGE_MIN_RANGE = (60, 121)
# Tunable default: a 10–20-minute shower on half of the days (a gap too short to be non-wear).
_P_SHOWER = 0.5
_SHOWER_MIN_RANGE = (10, 21)
# Tunable default: the day's walking varies ±30 % (log-normal) around the plan, in bouts of about
# 12 minutes that are never shorter than 5 minutes.
_WALK_LOG_SD = 0.3
_WALK_BOUT_MIN = 12.0
_WALK_BOUT_FLOOR_MIN = 5
# Tunable default: one walk in seven is on a treadmill, which reports its cadence over RSC/FTMS.
_P_TREADMILL = 0.15
# Tunable default: activity stays 30 minutes away from waking and bedtime.
_MARGIN_MIN = 30
# Tunable default: activities are at least 10 minutes apart.
_GAP_MIN = 10
# Tunable default: random placements tried before an activity is left out of a crowded day.
_PLACEMENT_TRIES = 50
# Tunable default: Dirichlet concentration 4 splits the day's walking into bouts of similar
# length (a concentration of 1 would often leave one bout very short).
_BOUT_SPLIT_CONCENTRATION = 4.0


@dataclass(frozen=True, slots=True)
class Timeline:
    """Per-minute masks of one day, plus the activity bouts as ``(start_min, n_minutes)``."""

    sleep: BoolArray
    wear: BoolArray
    walks: tuple[tuple[int, int], ...]
    ride: tuple[int, int] | None
    treadmill_walk: int | None


def _gap(mask: BoolArray, start: int, length: int) -> None:
    mask[max(start, 0) : max(start + length, 0)] = False


def _place(
    rng: np.random.Generator, free: BoolArray, n_minutes: int, lo: int, hi: int
) -> int | None:
    """A start minute in ``[lo, hi − n_minutes)`` where ``n_minutes`` free minutes fit."""
    if hi - n_minutes <= lo:
        return None
    for _ in range(_PLACEMENT_TRIES):
        start = int(rng.integers(lo, hi - n_minutes))
        if free[start : start + n_minutes].all():
            return start
    return None


def draw_timeline(*, n_minutes: int, stage_week: float, rng: np.random.Generator) -> Timeline:
    """Draw sleep, wear, walks and an optional ride for a day of ``n_minutes`` minutes."""
    wake = min(int(np.clip(rng.normal(_WAKE_MEAN_MIN, _WAKE_SD_MIN), *_WAKE_RANGE_MIN)), n_minutes)
    bed = min(int(np.clip(rng.normal(_BED_MEAN_MIN, _BED_SD_MIN), *_BED_RANGE_MIN)), n_minutes)
    wake = min(wake, bed)
    minute = np.arange(n_minutes)
    sleep = (minute < wake) | (minute >= bed)
    wear = np.ones(n_minutes, dtype=np.bool_)
    if rng.random() >= _P_NIGHT_WEAR:
        _gap(wear, 0, wake + _NIGHT_OFF_MARGIN_MIN)
        _gap(wear, bed - _NIGHT_OFF_MARGIN_MIN, n_minutes)
    lo, hi = wake + _MARGIN_MIN, bed - _MARGIN_MIN
    if rng.random() < _P_CHARGE:
        length = int(rng.integers(*_CHARGE_MIN_RANGE))
        start = _place(rng, wear, length, lo, hi)
        if start is not None:
            _gap(wear, start, length)
    if rng.random() < _P_SHOWER:
        length = int(rng.integers(*_SHOWER_MIN_RANGE))
        start = _place(rng, wear, length, lo, hi)
        if start is not None:
            _gap(wear, start, length)

    free = wear & ~sleep
    walk_total = walk_minutes_per_day(stage_week) * np.exp(rng.normal(0.0, _WALK_LOG_SD))
    n_bouts = max(1, round(walk_total / _WALK_BOUT_MIN))
    shares = rng.dirichlet(np.full(n_bouts, _BOUT_SPLIT_CONCENTRATION))
    walks: list[tuple[int, int]] = []
    for share in shares:
        length = max(_WALK_BOUT_FLOOR_MIN, round(walk_total * share))
        start = _place(rng, free, length, lo, hi)
        if start is not None:
            walks.append((start, length))
            free[max(start - _GAP_MIN, 0) : start + length + _GAP_MIN] = False

    ride: tuple[int, int] | None = None
    if rng.random() < ride_probability(stage_week):
        length = round(rng.uniform(*ride_minutes_range(stage_week)))
        start = _place(rng, free, length, lo, hi)
        if start is not None:
            ride = (start, length)
    treadmill = 0 if walks and rng.random() < _P_TREADMILL else None
    return Timeline(
        sleep=sleep,
        wear=wear,
        walks=tuple(sorted(walks)),
        ride=ride,
        treadmill_walk=treadmill,
    )
