"""``analyse_day``: one patient-local day from its minute grid, the plan and recent history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from types import MappingProxyType

import numpy as np

from analysis import _day_rules, _history_rules
from analysis._context import extend_grid
from analysis.activities import DeclaredActivity, declared_masks
from analysis.config import Thresholds, load_thresholds
from analysis.flags import Flag, hr_over_limit_flag
from analysis.grid import MinuteGrid
from analysis.intensity import heart_rate_model, zone_minutes
from analysis.patient import PatientProfile
from analysis.plan import MODALITIES, Plan, load_plan, resolve_day_targets
from analysis.sessions import activity_masks, detect_sessions
from analysis.stats import basic_day_stats
from analysis.summary import ANALYSIS_VERSION, DayStatus, DaySummary, HeartRateSummary

__all__ = ["analyse_day"]


def analyse_day(
    *,
    grid: MinuteGrid,
    day: date,
    patient: PatientProfile,
    plan: Plan | None = None,
    history: Iterable[DaySummary] = (),
    thresholds: Thresholds | None = None,
    previous_grid: MinuteGrid | None = None,
    next_grid: MinuteGrid | None = None,
    day_complete: bool = True,
    activities: Sequence[DeclaredActivity] = (),
) -> DaySummary:
    """Analyse one patient-local day.

    Parameters
    ----------
    grid
        The day's minute grid (:func:`~analysis.grid.build_minute_grid`).
    day
        The patient-local calendar date of ``grid``.
    patient
        The patient's profile, with overrides and the plan-override history.
    plan
        Progression plan (default: :func:`~analysis.plan.load_plan`).
    history
        Summaries of previous days (any order; the last three weeks are used) for the
        multi-day flags: streaks, ramp, resting-HR baseline, missing data and the repeat limit
        of running; days still in progress count as missing.
    thresholds
        Thresholds (default: :func:`~analysis.config.load_thresholds`).
    previous_grid, next_grid
        Grids of the days before and after, when known: a session crossing midnight is then
        kept whole by the day it started in and dropped from the next day.
    day_complete
        ``False`` while the day has not ended in the patient's time zone: the status is
        ``in_progress``, the figures are those so far, and only the rules that can only grow
        during a day run (``HR_OVER_LIMIT``, ``SESSION_TOO_LONG``, ``DAILY_OVER_TARGET``,
        ``HIGH_IMPACT_BEFORE_CLEARANCE``).
    activities
        Activities declared by the patient's devices (a watch's cycling workout, a FIT ride)
        that touch the day or its neighbours' context: a declared ride's worn minutes without
        crank cadence are biking, a declared walk is walking (see :mod:`analysis.activities`).
        Without any, the day is analysed as before.

    Returns
    -------
    DaySummary
        The day's summary; the same inputs always give the same summary.

    Raises
    ------
    InputError
        If a neighbouring grid does not adjoin ``grid``.
    """
    th = thresholds if thresholds is not None else load_thresholds()
    pl = plan if plan is not None else load_plan()
    rules = th.flags
    past = _history_rules.recent_days(list(history), day)

    cleared_by_date = {m: patient.clearances.cleared_on(m, day) for m in MODALITIES}
    targets = resolve_day_targets(
        plan=pl,
        day=day,
        surgery_type=patient.surgery_type,
        approach=patient.approach,
        surgery_date=patient.surgery_date,
        cleared_by_date=cleared_by_date,
        overrides=patient.plan_overrides,
    )
    basic = basic_day_stats(grid, thresholds=th.sessions)
    wear_minutes = basic.wear_minutes

    limit_override = (
        targets.hr_limit_bpm if targets.hr_limit_bpm is not None else patient.hr_limit_bpm
    )
    hr_day = grid.hr_mean_bpm
    model = heart_rate_model(
        age_years=day.year - patient.birth_year,
        hr_mean_bpm=hr_day,
        resting_override_bpm=patient.resting_hr_bpm,
        recent_resting_bpm=_history_rules.own_resting_median(
            past,
            days=th.intensity.resting_recent_days,
            min_days=th.intensity.resting_recent_min_days,
        ),
        max_override_bpm=patient.max_hr_bpm,
        limit_override_bpm=limit_override,
        beta_blocker=patient.beta_blocker,
        phase=targets.phase,
        thresholds=th.intensity,
    )
    zones = zone_minutes(hr_day, model=model, thresholds=th.intensity)
    above_limit: int | None = None
    if model.limit_bpm is not None:
        with np.errstate(invalid="ignore"):
            above_limit = int(np.count_nonzero(hr_day > model.limit_bpm))

    wide, first, stop = extend_grid(
        grid,
        previous_grid=previous_grid,
        next_grid=next_grid,
        context_min=th.sessions.neighbour_context_min,
    )
    masks = activity_masks(
        wide, thresholds=th.sessions, declared=declared_masks(wide, activities=activities)
    )
    sessions = detect_sessions(
        wide,
        masks=masks,
        thresholds=th.sessions,
        limit_bpm=model.limit_bpm,
        first_minute=first,
        stop_minute=stop,
    )
    by_kind = {"walking": 0, "biking": 0, "running": 0}
    for s in sessions:
        by_kind[s.kind] += s.active_minutes
    aerobic = sum(by_kind.values())

    status: DayStatus
    if not day_complete:
        status = "in_progress"
    elif wear_minutes < th.wear.min_wear_minutes_to_judge:
        status = "insufficient_data"
    elif targets.before_surgery:
        status = "pre_operative"
    elif aerobic < targets.aerobic_min_low:
        status = "below"
    elif aerobic > targets.aerobic_min_high:
        status = "above"
    else:
        status = "on_track"

    # Whether the day's own resting estimate includes sleep: asleep the heart beats a few times a
    # minute slower, so an estimate without the night is compared only with others without it.
    resting_night: bool | None = None
    if model.resting_source == "estimated":
        night = grid.hr_count[: th.intensity.resting_night_window_min]
        resting_night = int(np.count_nonzero(night > 0)) >= th.intensity.resting_night_min_minutes
    baseline = None
    elevated = False
    if day_complete and model.rules_active and resting_night is not None:
        baseline = _history_rules.resting_baseline(
            recent=past, day=day, rules=rules, night=resting_night
        )
        elevated = (
            baseline is not None
            and model.resting_bpm is not None
            and model.resting_bpm >= baseline + rules.rhr_rise_bpm
        )

    bouts = _day_rules.running_bouts(
        masks, first_minute=first, stop_minute=stop, thresholds=th.sessions
    )
    running_cleared = targets.cleared.get("running", False)
    hr_flag = (
        hr_over_limit_flag(
            hr_day,
            day_start_s=grid.day_start_s,
            limit_bpm=model.limit_bpm,
            limit_basis=model.limit_basis or "override",
            phase=targets.phase,
            # Running before clearance is the finding; its heart rate is not a second one.
            excluded=None
            if running_cleared or bouts.starts.size == 0
            else bouts.day_mask(
                first_minute=first,
                n_minutes=grid.n_minutes,
                after_min=rules.hr_running_recovery_min,
            ),
            rules=rules,
            plan_version=targets.plan_version,
        )
        if model.limit_bpm is not None and model.rules_checked
        else None
    )
    # Rules that can only grow during a day run on every day; the others need the whole day.
    candidates: list[Flag | None] = [
        _day_rules.high_impact_flag(
            bouts,
            masks=masks,
            recent=past,
            day_start_s=wide.day_start_s,
            min_sustained_min=th.sessions.running_min_sustained_min,
            targets=targets,
            rules=rules,
        ),
        _history_rules.resting_rise_flag(
            recent=past,
            day=day,
            elevated_today=elevated,
            resting_bpm=model.resting_bpm,
            baseline_bpm=baseline,
            rules=rules,
            plan_version=targets.plan_version,
        )
        if day_complete
        else None,
        hr_flag,
        _day_rules.session_too_long_flag(sessions, targets=targets, rules=rules),
        _day_rules.daily_over_target_flag(aerobic, recent=past, targets=targets, rules=rules),
    ]
    if day_complete:
        candidates += [
            _history_rules.ramp_flag(
                recent=past,
                day=day,
                today=(status != "insufficient_data", aerobic),
                targets=targets,
                rules=rules,
            ),
            _history_rules.no_data_flag(
                recent=past,
                day=day,
                wear_minutes=wear_minutes,
                max_wear_min=th.wear.no_wear_day_max_minutes,
                rules=rules,
                plan_version=targets.plan_version,
            ),
            _history_rules.below_streak_flag(
                recent=past, day=day, below_today=status == "below", targets=targets, rules=rules
            ),
        ]
    heart = HeartRateSummary(
        rules_active=model.rules_active,
        rules_checked=model.rules_checked,
        not_checked_reason=model.not_checked_reason,
        resting_bpm=model.resting_bpm,
        resting_source=model.resting_source,
        resting_night=resting_night,
        resting_baseline_bpm=baseline,
        resting_elevated=elevated,
        min_bpm=basic.hr_min_bpm,
        mean_bpm=basic.hr_avg_bpm,
        max_bpm=basic.hr_max_bpm,
        hr_max_bpm=model.hr_max_bpm,
        limit_bpm=model.limit_bpm,
        limit_basis=model.limit_basis,
        minutes_light=zones[0] if zones else None,
        minutes_moderate=zones[1] if zones else None,
        minutes_vigorous=zones[2] if zones else None,
        minutes_above_limit=above_limit,
    )
    return DaySummary(
        date=day,
        day_start_s=grid.day_start_s,
        n_minutes=grid.n_minutes,
        wear_minutes=wear_minutes,
        steps=basic.steps,
        active_minutes=basic.active_minutes,
        aerobic_minutes=aerobic,
        aerobic_minutes_by_kind=MappingProxyType(by_kind),
        sessions=sessions,
        heart_rate=heart,
        targets=targets,
        status=status,
        # Before surgery the plan does not apply yet: the day only describes the baseline.
        flags=() if targets.before_surgery else tuple(f for f in candidates if f is not None),
        analysis_version=ANALYSIS_VERSION,
        thresholds_version=th.version,
    )
