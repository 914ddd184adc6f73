"""Flags that need previous days: target streaks, ramp, resting-HR rise and missing data.

Each rule fires on the day its condition starts (not on every day it lasts), so a lasting
situation gives one flag that the service's alerting keeps open until it resolves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from statistics import median

from analysis.config import FlagRules
from analysis.flags import Flag, FlagCode, make_flag, streak_start
from analysis.plan import DAYS_PER_WEEK, DayTargets
from analysis.summary import DaySummary

__all__ = [
    "HISTORY_DAYS",
    "below_streak_flag",
    "flagged_within",
    "no_data_flag",
    "own_resting_median",
    "ramp_flag",
    "resting_baseline",
    "resting_rise_flag",
]

#: Days of history the multi-day rules look at: the ramp compares two weeks and the resting-HR
#: baseline spans two, plus a week of margin for streaks (tunable default).
HISTORY_DAYS = 3 * DAYS_PER_WEEK

#: The days before the analysed one, oldest first, yesterday last (``None`` where missing).
Recent = Sequence[DaySummary | None]


def recent_days(history: Sequence[DaySummary], day: date) -> list[DaySummary | None]:
    """The ``HISTORY_DAYS`` days before ``day`` from ``history`` (any order), oldest first.

    Days still in progress count as missing: only complete days are history.
    """
    by_date = {s.date: s for s in history if s.status != "in_progress"}
    return [by_date.get(day - timedelta(days=k)) for k in range(HISTORY_DAYS, 0, -1)]


def flagged_within(days: Iterable[DaySummary | None], code: FlagCode) -> bool:
    """Whether any of ``days`` carries a flag ``code``."""
    return any(s is not None and any(f.code == code for f in s.flags) for s in days)


def no_data_flag(
    *,
    recent: Recent,
    day: date,
    wear_minutes: int,
    max_wear_min: int,
    rules: FlagRules,
    plan_version: str,
) -> Flag | None:
    """``NO_DATA``: no wear for ``no_data_min_days`` days in a row, ending today."""
    need = rules.no_data_min_days
    past = recent[-need:]
    # The days of the streak must be known; the day before it may be missing (first days).
    if any(s is None for s in past[1:]):
        return None
    conditions = [s is not None and s.wear_minutes <= max_wear_min for s in past]
    conditions.append(wear_minutes <= max_wear_min)
    if not streak_start(conditions, length=need):
        return None
    return make_flag(
        "NO_DATA",
        rules=rules,
        message=(
            f"No activity data has arrived for {need} days. The band may not be worn or "
            "charged, or the home hub may be offline: please check them."
        ),
        evidence={
            "days_without_wear": need,
            "first_day": (day - timedelta(days=need - 1)).isoformat(),
            "max_wear_minutes_per_day": max_wear_min,
            "plan_version": plan_version,
        },
    )


def below_streak_flag(
    *,
    recent: Recent,
    day: date,
    below_today: bool,
    targets: DayTargets,
    rules: FlagRules,
) -> Flag | None:
    """``BELOW_TARGET_STREAK``: judged days in a row below the lower bound (unjudged skipped).

    One flag per streak: not again while a day of the same streak (within the history
    window) already carries it.
    """
    if not below_today:
        return None
    judged = [s for s in recent if s is not None and s.judged]
    run: list[DaySummary] = []
    for s in reversed(judged):
        if s.status != "below":
            break
        run.append(s)
    need = rules.below_streak_min_days
    if len(run) + 1 < need or flagged_within(run, "BELOW_TARGET_STREAK"):
        return None
    since = run[-1].date if run else day
    return make_flag(
        "BELOW_TARGET_STREAK",
        rules=rules,
        message=(
            f"For {len(run) + 1} days in a row you were active for less than your plan's "
            f"{targets.aerobic_min_low:.0f} minutes a day. Short, easy walks spread over the day "
            "count too; tell your care team if pain or tiredness holds you back."
        ),
        evidence={
            "days_below": len(run) + 1,
            "since": since.isoformat(),
            "aerobic_min_low": targets.aerobic_min_low,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )


def _planned(summary: DaySummary) -> bool:
    """A valid day after surgery: judged against the plan."""
    return summary.judged and summary.status != "pre_operative"


def ramp_flag(
    *,
    recent: Recent,
    day: date,
    today: tuple[bool, int],
    targets: DayTargets,
    rules: FlagRules,
) -> Flag | None:
    """``RAMP_TOO_FAST``: this week's median daily minutes far above last week's and the plan.

    ``today`` is ``(judged, aerobic_minutes)`` of the day being analysed.
    """
    # The last 13 days: last week is the first 7, this week the other 6 plus today.
    past = recent[-(2 * DAYS_PER_WEEK - 1) :]
    # One flag per week: not again while a flag of the previous 6 days stands.
    if any(
        s is not None and any(f.code == "RAMP_TOO_FAST" for f in s.flags)
        for s in past[-(DAYS_PER_WEEK - 1) :]
    ):
        return None
    # Days judged against the plan only: a pre-operative week is not the ramp's "last week".
    last_week = [s.aerobic_minutes for s in past[:DAYS_PER_WEEK] if s is not None and _planned(s)]
    this_week = [s.aerobic_minutes for s in past[DAYS_PER_WEEK:] if s is not None and _planned(s)]
    if today[0]:
        this_week.append(today[1])
    if min(len(last_week), len(this_week)) < rules.ramp_min_judged_days:
        return None
    before, now = float(median(last_week)), float(median(this_week))
    if not (
        now >= rules.ramp_growth_ratio * before
        and now - before >= rules.ramp_min_increase_min
        and now > targets.aerobic_min_high
    ):
        return None
    return make_flag(
        "RAMP_TOO_FAST",
        rules=rules,
        message=(
            f"This week you were active for about {now:.0f} minutes a day, up from {before:.0f} "
            f"last week, and above your plan's {targets.aerobic_min_high:.0f}. Increase gradually: "
            "about 5 more minutes a day each week."
        ),
        evidence={
            "this_week_median_min": now,
            "last_week_median_min": before,
            "growth_ratio": rules.ramp_growth_ratio,
            "aerobic_min_high": targets.aerobic_min_high,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )


def own_resting_median(
    recent: Recent, *, days: int, min_days: int, night: bool | None = None
) -> float | None:
    """Median of the last ``days`` days' own resting estimates, beats/min.

    Only days whose resting rate was estimated from their own heart rate count (not copies
    from other days or overrides) and, when ``night`` is given, only those whose estimate did
    (``True``) or did not (``False``) include the night; fewer than ``min_days`` such days give
    ``None``.
    """
    values = [
        s.heart_rate.resting_bpm
        for s in recent[len(recent) - days :]
        if s is not None
        and s.heart_rate.resting_source == "estimated"
        and s.heart_rate.resting_bpm is not None
        and (night is None or s.heart_rate.resting_night is night)
    ]
    return float(median(values)) if len(values) >= max(min_days, 1) else None


def resting_baseline(*, recent: Recent, day: date, rules: FlagRules, night: bool) -> float | None:
    """Median resting heart rate of the ``rhr_baseline_days`` days before ``day``, beats/min.

    Only days whose estimate is of the same kind as today's count: with the night or without.
    """
    return own_resting_median(
        recent, days=rules.rhr_baseline_days, min_days=rules.rhr_min_baseline_days, night=night
    )


def resting_rise_flag(
    *,
    recent: Recent,
    day: date,
    elevated_today: bool,
    resting_bpm: float | None,
    baseline_bpm: float | None,
    rules: FlagRules,
    plan_version: str,
) -> Flag | None:
    """``RESTING_HR_RISE``: resting rate ≥ baseline + rise on enough consecutive days."""
    need = rules.rhr_consecutive_days
    if not elevated_today or resting_bpm is None or baseline_bpm is None:
        return None
    past = recent[-need:]
    conditions = [s is not None and s.heart_rate.resting_elevated for s in past] + [True]
    if not streak_start(conditions, length=need):
        return None
    return make_flag(
        "RESTING_HR_RISE",
        rules=rules,
        message=(
            f"Your resting heart rate has been higher than usual for {need} days "
            f"({resting_bpm:.0f} beats per minute against a usual {baseline_bpm:.0f}). This can "
            "be a sign of infection or another problem: your care team would like to check in."
        ),
        evidence={
            "resting_bpm": round(resting_bpm, 1),
            "baseline_bpm": round(baseline_bpm, 1),
            "rise_bpm": rules.rhr_rise_bpm,
            "consecutive_days": need,
            "first_day": (day - timedelta(days=need - 1)).isoformat(),
            "plan_version": plan_version,
        },
    )
