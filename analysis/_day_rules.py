"""Flags judged from the day's own minutes: long sessions, too many minutes, running.

These rules can only grow during a day, so they also run on a day still in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis._history_rules import flagged_within
from analysis._runs import fill_short_gaps, mask_runs
from analysis.config import FlagRules, SessionThresholds
from analysis.flags import Flag, iso_utc, make_flag
from analysis.grid import SECONDS_PER_MINUTE
from analysis.plan import DayTargets
from analysis.sessions import ActivityMasks, Session
from analysis.summary import DaySummary

__all__ = [
    "RunningBouts",
    "daily_over_target_flag",
    "high_impact_flag",
    "running_bouts",
    "session_too_long_flag",
]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RunningBouts:
    """Sustained running bouts that start within the day, as half-open minute ranges.

    ``starts`` and ``ends`` index the (possibly extended) grid the masks were built on.
    """

    starts: IntArray
    ends: IntArray

    def day_mask(
        self, *, first_minute: int, n_minutes: int, after_min: int = 0
    ) -> npt.NDArray[np.bool_]:
        """The day's own minutes (``n_minutes`` from ``first_minute``) inside a bout.

        ``after_min`` extends each bout by that many minutes (recovery after running).
        """
        diff = np.zeros(n_minutes + 1, dtype=np.int64)
        lo = np.clip(self.starts - first_minute, 0, n_minutes)
        hi = np.clip(self.ends + after_min - first_minute, 0, n_minutes)
        np.add.at(diff, lo, 1)
        np.add.at(diff, hi, -1)
        return np.cumsum(diff[:-1]) > 0


def running_bouts(
    masks: ActivityMasks, *, first_minute: int, stop_minute: int, thresholds: SessionThresholds
) -> RunningBouts:
    """Running bouts of at least ``running_min_sustained_min`` minutes starting in the day.

    Dips below running cadence of up to ``running_max_gap_min`` minutes stay in the bout.
    """
    empty = np.zeros(0, dtype=np.int64)
    if not masks.running[first_minute:stop_minute].any():
        return RunningBouts(empty, empty)
    bridged = fill_short_gaps(masks.running, max_gap_min=thresholds.running_max_gap_min)
    starts, ends = mask_runs(bridged)
    keep = (
        ((ends - starts) >= thresholds.running_min_sustained_min)
        & (starts >= first_minute)
        & (starts < stop_minute)
    )
    return RunningBouts(starts[keep], ends[keep])


def session_too_long_flag(
    sessions: tuple[Session, ...], *, targets: DayTargets, rules: FlagRules
) -> Flag | None:
    """``SESSION_TOO_LONG``: the day's longest session is well beyond the longest allowed."""
    limit_min = targets.max_session_min * rules.session_over_ratio
    too_long = [s for s in sessions if s.duration_min > limit_min]
    if not too_long:
        return None
    worst = max(too_long, key=lambda s: (s.duration_min, -s.start_s))
    return make_flag(
        "SESSION_TOO_LONG",
        rules=rules,
        message=(
            f"One {worst.kind} session lasted {worst.duration_min} minutes; your plan this week "
            f"allows sessions of up to {targets.max_session_min:.0f} minutes. Split long walks "
            "or rides into shorter ones with rests in between."
        ),
        evidence={
            "sessions_over": len(too_long),
            "session_kind": worst.kind,
            "session_start": iso_utc(worst.start_s),
            "session_end": iso_utc(worst.end_s),
            "duration_min": worst.duration_min,
            "max_session_min": targets.max_session_min,
            "over_ratio": rules.session_over_ratio,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )


def daily_over_target_flag(
    aerobic_minutes: int,
    *,
    recent: Sequence[DaySummary | None],
    targets: DayTargets,
    rules: FlagRules,
) -> Flag | None:
    """``DAILY_OVER_TARGET``: the day's aerobic minutes are well above the plan's upper bound.

    At most one flag per ``daily_over_repeat_days`` days (``recent``: the days before, oldest
    first): doing too much day after day is one behaviour, and its alert stays open.
    """
    ratio = rules.daily_over_ratio.of(targets.phase)
    limit_min = targets.aerobic_min_high * ratio
    if aerobic_minutes <= limit_min or flagged_within(
        recent[len(recent) - (rules.daily_over_repeat_days - 1) :], "DAILY_OVER_TARGET"
    ):
        return None
    return make_flag(
        "DAILY_OVER_TARGET",
        rules=rules,
        message=(
            f"You were active for {aerobic_minutes} minutes today; your plan this week is "
            f"{targets.aerobic_min_low:.0f}–{targets.aerobic_min_high:.0f} minutes a day. Doing "
            "much more than planned can slow healing: build up gradually."
        ),
        evidence={
            "aerobic_minutes": aerobic_minutes,
            "aerobic_min_high": targets.aerobic_min_high,
            "over_ratio": ratio,
            "phase": targets.phase,
            "repeat_after_days": rules.daily_over_repeat_days,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )


def high_impact_flag(
    bouts: RunningBouts,
    *,
    masks: ActivityMasks,
    recent: Sequence[DaySummary | None],
    day_start_s: int,
    min_sustained_min: int,
    targets: DayTargets,
    rules: FlagRules,
) -> Flag | None:
    """``HIGH_IMPACT_BEFORE_CLEARANCE``: sustained running on a day running is not cleared.

    At most one flag per ``high_impact_repeat_days`` days: a flag on one of the days before
    (``recent``, oldest first, yesterday last) stands for the same behaviour. ``day_start_s``
    is the time of minute 0 of the grid the bouts index.
    """
    if targets.cleared.get("running", False) or bouts.starts.size == 0:
        return None
    if flagged_within(
        recent[len(recent) - (rules.high_impact_repeat_days - 1) :],
        "HIGH_IMPACT_BEFORE_CLEARANCE",
    ):
        return None
    starts, ends = bouts.starts, bouts.ends
    in_bout = bouts.day_mask(first_minute=0, n_minutes=masks.running.size)
    minutes = int(np.count_nonzero(masks.running & in_bout))
    return make_flag(
        "HIGH_IMPACT_BEFORE_CLEARANCE",
        rules=rules,
        message=(
            f"Running was detected today ({minutes} minutes). Running and jumping are not yet "
            "cleared by your surgeon: please walk instead, and talk to your care team before "
            "running again."
        ),
        evidence={
            "episodes": int(starts.size),
            "first_start": iso_utc(day_start_s + SECONDS_PER_MINUTE * int(starts[0])),
            "first_end": iso_utc(day_start_s + SECONDS_PER_MINUTE * int(ends[0])),
            "running_minutes": minutes,
            "bout_minutes": int((ends - starts).sum()),
            "min_sustained_min": min_sustained_min,
            "running_cleared": False,
            "repeat_after_days": rules.high_impact_repeat_days,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )
