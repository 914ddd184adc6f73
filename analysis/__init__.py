"""Pure analysis of a patient's activity: minute grids, sessions, intensity, plan checks and flags.

Imports numpy and the standard library only: no database, web, Bluetooth, environment or clock.
Every function is keyword-only and deterministic; results are frozen dataclasses.

Times are epoch seconds (UTC). The service turns a patient-local calendar day (IANA zone) into
``day_start_s`` and ``n_minutes`` (1,440; 1,380 or 1,500 on daylight-saving change days) before
calling in.

Integration
-----------
1. Build the day's grid from raw samples (pass samples from a margin before the day: a steps
   sample's interval may start the day before; only the part inside the day counts)::

       grid = build_minute_grid(day_start_s=..., n_minutes=1440,
                                hr_t_s=..., hr_bpm=...,
                                steps_end_t_s=..., steps_count=..., steps_interval_s=...,
                                cadence_t_s=..., cadence_spm=..., cadence_running=...,
                                bike_t_s=..., bike_rpm=..., bike_power_w=...)

2. Describe the patient (plan overrides are kept as a history, each effective from a date)::

       patient = PatientProfile(birth_year=1960, surgery_type="fusion", approach="open",
                                surgery_date=date(2026, 5, 1),
                                clearances=Clearances(running=None),
                                plan_overrides=(PlanOverride(effective_from=date(2026, 5, 20),
                                                             max_session_min=20),))

3. Analyse the day with the previous days' summaries (the last 21 days are used for streaks,
   ramp, resting-HR baseline and missing data) and, when known, the neighbouring days' grids
   (a session crossing midnight belongs to the day it started in)::

       summary = analyse_day(grid=grid, day=date(2026, 5, 21), patient=patient,
                             plan=load_plan(), history=previous_summaries,
                             previous_grid=grid_before, next_grid=grid_after)
       summary.to_dict()        # JSON-safe: dates YYYY-MM-DD, times ISO-8601 UTC

   Analyse every calendar day (also days without samples): ``NO_DATA`` and the streak rules
   need a summary per day. Re-analyse a day when the next day's data arrives if sessions
   near midnight matter.

4. Weekly progress: ``weekly_progress(summaries=..., surgery_date=...)``.

5. Recovery trajectory against the patient's own baseline and the expected band
   (``data/recovery.json``, :func:`load_recovery`)::

       trajectory = recovery_trajectory(summaries=..., surgery_date=..., surgery_type="fusion",
                                        approach="open", today=..., entered_baseline=None)
       recovery_behind(trajectory=trajectory, week=6)   # RECOVERY_BEHIND or None

Data files (read-only, versioned): ``data/plan.json`` (:func:`load_plan`) and
``data/thresholds.json`` (:func:`load_thresholds`); every value names its source. Summaries carry
``ANALYSIS_VERSION``, the plan version and the thresholds version.
"""

from __future__ import annotations

from analysis._recovery_model import BandWeek, RecoveryModel, load_recovery, recovery_from_mapping
from analysis.activities import (
    ACTIVITY_KINDS,
    ActivityKind,
    DeclaredActivity,
    DeclaredMasks,
    declared_masks,
)
from analysis.config import Thresholds, load_thresholds, thresholds_from_mapping
from analysis.engine import analyse_day
from analysis.errors import AnalysisError, InputError, PlanError
from analysis.flags import FLAG_CODES, Flag, FlagCode
from analysis.grid import MinuteGrid, build_minute_grid, build_minute_grid_from_minutes, wear_mask
from analysis.intensity import HeartRateModel, heart_rate_model, resting_hr_estimate
from analysis.minute_steps import NSTEPS_PER_STEP, spread_steps_nstep
from analysis.patient import Approach, Clearances, PatientProfile, SurgeryType
from analysis.plan import (
    DayTargets,
    Plan,
    PlanOverride,
    PlanStage,
    load_plan,
    plan_from_mapping,
    resolve_day_targets,
    week_since_surgery,
)
from analysis.sessions import Session, SessionKind, activity_masks, detect_sessions
from analysis.sources import SourceChoice, choose_sources
from analysis.stats import BasicDayStats, active_minute_mask, basic_day_stats
from analysis.summary import (
    ANALYSIS_VERSION,
    DayStatus,
    DaySummary,
    HeartRateSummary,
    summary_from_dict,
)
from analysis.trajectory import (
    RECOVERY_BEHIND,
    Baseline,
    DayFigures,
    DaySteps,
    Milestone,
    Trajectory,
    TrajectoryWeek,
    preoperative_baseline,
    recovery_behind,
    recovery_trajectory,
)
from analysis.weekly import WeekProgress, weekly_progress

__all__ = [
    "ACTIVITY_KINDS",
    "ANALYSIS_VERSION",
    "FLAG_CODES",
    "NSTEPS_PER_STEP",
    "RECOVERY_BEHIND",
    "ActivityKind",
    "AnalysisError",
    "Approach",
    "BandWeek",
    "Baseline",
    "BasicDayStats",
    "Clearances",
    "DayFigures",
    "DayStatus",
    "DaySteps",
    "DaySummary",
    "DayTargets",
    "DeclaredActivity",
    "DeclaredMasks",
    "Flag",
    "FlagCode",
    "HeartRateModel",
    "HeartRateSummary",
    "InputError",
    "Milestone",
    "MinuteGrid",
    "PatientProfile",
    "Plan",
    "PlanError",
    "PlanOverride",
    "PlanStage",
    "RecoveryModel",
    "Session",
    "SessionKind",
    "SourceChoice",
    "SurgeryType",
    "Thresholds",
    "Trajectory",
    "TrajectoryWeek",
    "WeekProgress",
    "active_minute_mask",
    "activity_masks",
    "analyse_day",
    "basic_day_stats",
    "build_minute_grid",
    "build_minute_grid_from_minutes",
    "choose_sources",
    "declared_masks",
    "detect_sessions",
    "heart_rate_model",
    "load_plan",
    "load_recovery",
    "load_thresholds",
    "plan_from_mapping",
    "preoperative_baseline",
    "recovery_behind",
    "recovery_from_mapping",
    "recovery_trajectory",
    "resolve_day_targets",
    "resting_hr_estimate",
    "spread_steps_nstep",
    "summary_from_dict",
    "thresholds_from_mapping",
    "wear_mask",
    "week_since_surgery",
    "weekly_progress",
]
