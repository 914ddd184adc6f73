"""Flags judged from one day alone: long sessions, too many minutes, running before clearance."""

from __future__ import annotations

from analysis._runs import mask_runs
from analysis.config import FlagRules
from analysis.flags import Flag, iso_utc, make_flag
from analysis.grid import SECONDS_PER_MINUTE
from analysis.plan import DayTargets
from analysis.sessions import ActivityMasks, Session

__all__ = ["daily_over_target_flag", "high_impact_flag", "session_too_long_flag"]


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
    aerobic_minutes: int, *, targets: DayTargets, rules: FlagRules
) -> Flag | None:
    """``DAILY_OVER_TARGET``: the day's aerobic minutes are well above the plan's upper bound."""
    limit_min = targets.aerobic_min_high * rules.daily_over_ratio
    if aerobic_minutes <= limit_min:
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
            "over_ratio": rules.daily_over_ratio,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )


def high_impact_flag(
    masks: ActivityMasks,
    *,
    day_start_s: int,
    first_minute: int,
    stop_minute: int,
    min_sustained_min: int,
    targets: DayTargets,
    rules: FlagRules,
) -> Flag | None:
    """``HIGH_IMPACT_BEFORE_CLEARANCE``: sustained running on a day running is not cleared.

    ``masks`` may cover neighbouring days; only running that starts within
    ``[first_minute, stop_minute)`` counts, and ``day_start_s`` is the time of minute 0.
    """
    if targets.cleared.get("running", False) or not masks.running[first_minute:stop_minute].any():
        return None
    starts, ends = mask_runs(masks.running)
    keep = (
        ((ends - starts) >= min_sustained_min) & (starts >= first_minute) & (starts < stop_minute)
    )
    if not keep.any():
        return None
    starts, ends = starts[keep], ends[keep]
    minutes = int((ends - starts).sum())
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
            "min_sustained_min": min_sustained_min,
            "running_cleared": False,
            "week": targets.week,
            "plan_version": targets.plan_version,
        },
    )
