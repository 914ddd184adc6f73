"""Phase-aware judgement: maintenance bounds, sustained running, repeat limits, heart-rate fallbacks
and days still in progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pytest

from analysis import (
    Clearances,
    DaySummary,
    InputError,
    MinuteGrid,
    PatientProfile,
    analyse_day,
    load_thresholds,
    summary_from_dict,
    weekly_progress,
)
from tests.analysis.analysis_helpers import DAY0_S, make_grid, patient, walking_grid

DAY0 = date(2026, 5, 10)
# Endoscopic discectomy (minimal-access ramp): week 10 on DAY0, well into maintenance.
MAINTENANCE = {"surgery_date": date(2026, 3, 1)}
HR_MAX = 208 - 0.7 * 66  # Tanaka 2001 for the helper patient (born 1960), 2026


def codes(summary: DaySummary) -> list[str]:
    return [f.code for f in summary.flags]


def day_grid(i: int, **kw: object) -> MinuteGrid:
    return walking_grid(day_start_s=DAY0_S + 86_400 * i, **kw)  # type: ignore[arg-type]


def run_days(
    grids: Sequence[MinuteGrid], who: PatientProfile, *, complete: Sequence[bool] | None = None
) -> list[DaySummary]:
    out: list[DaySummary] = []
    for i, grid in enumerate(grids):
        out.append(
            analyse_day(
                grid=grid,
                day=DAY0 + timedelta(days=i),
                patient=who,
                history=out,
                day_complete=True if complete is None else complete[i],
            )
        )
    return out


def hr_only_grid(*, start_min: int, minutes: int, hr_bpm: float, day: int = 0) -> MinuteGrid:
    """Heart rate every 5 s for ``minutes`` minutes and nothing else (a chest strap's workout)."""
    t0 = DAY0_S + 86_400 * day + 60 * start_min
    t = t0 + 5.0 * np.arange(12 * minutes)
    return make_grid(day_start_s=DAY0_S + 86_400 * day, hr_t_s=t, hr_bpm=np.full(t.size, hr_bpm))


# --- plan phases -----------------------------------------------------------------------------


def test_phase_switch_lifts_bounds_and_the_heart_rate_limit() -> None:
    who = patient(surgery_date=date(2026, 4, 12))  # DAY0 is day 28: the first day of week 5
    grid = walking_grid(active=[(600, 630)], hr_bpm=70)
    ramp = analyse_day(grid=grid, day=DAY0 - timedelta(days=1), patient=who)
    maint = analyse_day(grid=grid, day=DAY0, patient=who)
    assert (ramp.targets.week, ramp.targets.phase) == (4, "ramp")
    assert (maint.targets.week, maint.targets.phase) == (5, "maintenance")
    assert (ramp.targets.aerobic_min_high, ramp.targets.max_session_min) == (30, 30)
    assert (maint.targets.aerobic_min_low, maint.targets.aerobic_min_high) == (20, 60)
    assert maint.targets.max_session_min == 60
    assert ramp.heart_rate.limit_bpm == pytest.approx(70 + 0.6 * (HR_MAX - 70))
    assert maint.heart_rate.limit_bpm == pytest.approx(70 + 0.8 * (HR_MAX - 70))
    assert maint.heart_rate.limit_basis == "heart_rate_reserve"


def test_maintenance_bounds() -> None:
    who = patient(**MAINTENANCE)
    # 55 minutes a day in two walks: on track in maintenance (the regimen's aim is the floor).
    fine = analyse_day(grid=walking_grid(active=[(600, 640), (900, 915)]), day=DAY0, patient=who)
    assert fine.status == "on_track"
    assert fine.flags == ()
    # A 60-minute walk is within the session limit, 91 minutes is 50 % beyond it.
    hour = analyse_day(grid=walking_grid(active=[(600, 660)]), day=DAY0, patient=who)
    assert hour.status == "on_track"
    assert "SESSION_TOO_LONG" not in codes(hour)
    long = analyse_day(grid=walking_grid(active=[(600, 691)]), day=DAY0, patient=who)
    assert long.status == "above"
    assert codes(long) == ["SESSION_TOO_LONG", "DAILY_OVER_TARGET"]
    flag = long.flags[1]
    assert flag.evidence["aerobic_min_high"] == 60
    assert flag.evidence["phase"] == "maintenance"
    assert flag.evidence["over_ratio"] == load_thresholds().flags.daily_over_ratio.maintenance


def test_ramp_still_flags_over_doing() -> None:
    # Week 2 of the ramp: 15–20 min/day, sessions ≤ 20; 45 minutes is well over both.
    summary = analyse_day(grid=walking_grid(active=[(600, 645)]), day=DAY0, patient=patient())
    assert codes(summary) == ["SESSION_TOO_LONG", "DAILY_OVER_TARGET"]
    assert summary.flags[1].evidence["phase"] == "ramp"


def test_daily_over_target_at_most_once_per_seven_days() -> None:
    who = patient(**MAINTENANCE)
    grids = [day_grid(i, active=[(600, 650), (700, 750)]) for i in range(10)]
    fired = [i for i, s in enumerate(run_days(grids, who)) if "DAILY_OVER_TARGET" in codes(s)]
    assert fired == [0, 7]


# --- running ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("active", "fires"),
    [
        ([(600, 604)], False),  # a 4-minute burst (a bus, the stairs)
        ([(600, 605)], True),  # a 5-minute bout
        ([(600, 603), (604, 607)], True),  # one slower minute inside a 7-minute bout
        ([(600, 603), (605, 608)], False),  # two slower minutes split two short bursts
    ],
)
def test_running_counts_only_as_a_sustained_bout(
    active: list[tuple[int, int]], fires: bool
) -> None:
    grid = walking_grid(active=active, cadence_spm=150)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(**MAINTENANCE))
    assert ("HIGH_IMPACT_BEFORE_CLEARANCE" in codes(summary)) is fires


def test_high_impact_at_most_once_per_seven_days_while_not_cleared() -> None:
    grids = [day_grid(i, active=[(600, 620)], cadence_spm=150) for i in range(10)]
    summaries = run_days(grids, patient(**MAINTENANCE))
    fired = [i for i, s in enumerate(summaries) if "HIGH_IMPACT_BEFORE_CLEARANCE" in codes(s)]
    assert fired == [0, 7]
    flag = next(f for f in summaries[0].flags if f.code == "HIGH_IMPACT_BEFORE_CLEARANCE")
    assert flag.evidence["repeat_after_days"] == 7
    assert flag.evidence["running_minutes"] == 20
    # Once cleared, running is no finding at all.
    cleared = patient(**MAINTENANCE, clearances=Clearances(running=DAY0 + timedelta(days=3)))
    fired = [i for i, s in enumerate(run_days(grids, cleared)) if s.flags]
    assert fired == [0]


def test_heart_rate_in_a_run_before_clearance_is_not_flagged_twice() -> None:
    who = patient(**MAINTENANCE)
    grid = walking_grid(active=[(600, 630)], cadence_spm=150, hr_during_bpm=170)
    summary = analyse_day(grid=grid, day=DAY0, patient=who)
    assert codes(summary) == ["HIGH_IMPACT_BEFORE_CLEARANCE"]
    assert summary.heart_rate.minutes_above_limit == 30  # the figure is still reported
    # Cleared for running: the run is allowed, its heart rate over the limit is the finding.
    cleared = patient(**MAINTENANCE, clearances=Clearances(running=DAY0))
    (flag,) = analyse_day(grid=grid, day=DAY0, patient=cleared).flags
    assert flag.code == "HR_OVER_LIMIT"
    assert flag.evidence["minutes_above_limit_in_running"] == 0


def test_heart_rate_well_after_a_run_is_a_new_finding() -> None:
    who = patient(**MAINTENANCE)
    recovery = load_thresholds().flags.hr_running_recovery_min
    for gap_min, fires in ((recovery - 5, False), (recovery + 5, True)):
        run = walking_grid(active=[(600, 630)], cadence_spm=150, hr_during_bpm=170)
        hr = run.hr_mean_bpm.copy()
        after = 630 + gap_min
        hr[after : after + 5] = 170  # five more minutes of high heart rate, standing
        grid = MinuteGrid(**{**vars(run), "hr_mean_bpm": hr, "hr_max_bpm": hr.copy()})
        summary = analyse_day(grid=grid, day=DAY0, patient=who)
        assert ("HR_OVER_LIMIT" in codes(summary)) is fires
        if fires:
            flag = next(f for f in summary.flags if f.code == "HR_OVER_LIMIT")
            assert flag.evidence["minutes_above_limit"] == 5
            assert flag.evidence["minutes_above_limit_in_running"] == 30


# --- resting heart rate and its fallbacks ----------------------------------------------------


def test_resting_rate_from_recent_days_when_today_has_too_little() -> None:
    who = patient(**MAINTENANCE)
    full = [day_grid(i, active=[(600, 630)], hr_bpm=58 + i) for i in range(3)]  # 58, 59, 60
    short = hr_only_grid(start_min=600, minutes=60, hr_bpm=150, day=3)
    summaries = run_days([*full, short], who)
    hr = summaries[-1].heart_rate
    assert hr.resting_source == "recent_days"
    assert hr.resting_bpm == 59  # median of the three days' own estimates
    assert hr.limit_bpm == pytest.approx(59 + 0.8 * (HR_MAX - 59))
    assert hr.rules_checked
    assert hr.not_checked_reason is not None
    assert "recent days" in hr.not_checked_reason
    assert "HR_OVER_LIMIT" in codes(summaries[-1])
    # Two days are too few for a recent-days rate (tunable default: 3 of the last 14).
    fewer = run_days([*full[1:], hr_only_grid(start_min=600, minutes=60, hr_bpm=150, day=2)], who)
    assert fewer[-1].heart_rate.resting_source == "none"


def test_override_wins_over_every_estimate() -> None:
    grid = hr_only_grid(start_min=600, minutes=60, hr_bpm=150)
    hr = analyse_day(grid=grid, day=DAY0, patient=patient(resting_hr_bpm=55)).heart_rate
    assert (hr.resting_source, hr.resting_bpm, hr.not_checked_reason) == ("override", 55, None)


@pytest.mark.parametrize(
    ("surgery", "phase", "fraction"),
    [(date(2026, 5, 1), "ramp", 0.77), (MAINTENANCE["surgery_date"], "maintenance", 0.89)],
)
def test_without_any_resting_rate_the_limit_comes_from_hr_max(
    surgery: date, phase: str, fraction: float
) -> None:
    # A real FIT case: a 51-minute run at about 175 bpm, heart rate only, nothing else today.
    grid = hr_only_grid(start_min=600, minutes=51, hr_bpm=175)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(surgery_date=surgery))
    hr = summary.heart_rate
    assert summary.targets.phase == phase
    assert (hr.resting_source, hr.resting_bpm, hr.limit_basis) == ("none", None, "hr_max")
    assert hr.limit_bpm == pytest.approx(fraction * HR_MAX)
    assert hr.rules_checked
    assert hr.not_checked_reason is not None
    assert hr.not_checked_reason.startswith("no resting heart rate known: fewer than 120 minutes")
    assert f"{fraction * 100:.0f} % of maximum heart rate" in hr.not_checked_reason
    assert hr.minutes_moderate is None  # reserve zones need a resting rate
    (flag,) = summary.flags
    assert flag.code == "HR_OVER_LIMIT"
    assert flag.evidence["limit_basis"] == "hr_max"
    assert flag.evidence["longest_min"] == 51


def test_beta_blocker_keeps_heart_rate_rules_off_and_says_so() -> None:
    grid = hr_only_grid(start_min=600, minutes=51, hr_bpm=175)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(beta_blocker=True))
    hr = summary.heart_rate
    assert not hr.rules_active
    assert not hr.rules_checked
    assert hr.not_checked_reason == "heart-rate rules are off: beta-blocker"
    assert hr.limit_bpm is None
    assert summary.flags == ()


def test_a_day_without_heart_rate_says_it_was_not_checked() -> None:
    grid = make_grid()
    hr = analyse_day(grid=grid, day=DAY0, patient=patient()).heart_rate
    assert not hr.rules_checked
    assert hr.not_checked_reason == "no heart rate recorded today"


# --- days in progress ------------------------------------------------------------------------


def test_in_progress_day_reports_figures_and_fires_only_rules_that_grow() -> None:
    who = patient()  # week 2: 15–20 min/day, sessions ≤ 20
    # Two days below target, then today so far: a 40-minute run at 160 bpm and a short walk.
    history = run_days([day_grid(i, active=[(600, 606)]) for i in range(2)], who)
    today = day_grid(
        2, active=[(400, 440), (600, 606)], hr_during_bpm=160, cadence_spm=150, running=True
    )
    kw = {"grid": today, "day": DAY0 + timedelta(days=2), "history": history}
    summary = analyse_day(**kw, patient=who, day_complete=False)  # type: ignore[arg-type]
    assert summary.status == "in_progress"
    assert not summary.judged
    assert (summary.aerobic_minutes, summary.steps, len(summary.sessions)) == (46, 46 * 150, 2)
    assert codes(summary) == [
        "HIGH_IMPACT_BEFORE_CLEARANCE",
        "SESSION_TOO_LONG",
        "DAILY_OVER_TARGET",
    ]
    # With running cleared, the heart rate of the run is the finding, also while in progress.
    cleared = patient(clearances=Clearances(running=DAY0))
    on_clearance = analyse_day(**kw, patient=cleared, day_complete=False)  # type: ignore[arg-type]
    assert "HR_OVER_LIMIT" in codes(on_clearance)


def test_below_target_waits_for_the_day_to_end() -> None:
    who = patient()
    grids = [day_grid(i, active=[(600, 606)]) for i in range(3)]
    assert "BELOW_TARGET_STREAK" in codes(run_days(grids, who)[-1])
    partial = run_days(grids, who, complete=[True, True, False])
    assert [s.status for s in partial] == ["below", "below", "in_progress"]
    assert partial[-1].flags == ()


def test_whole_day_rules_wait_for_the_day_to_end() -> None:
    who = patient()
    # NO_DATA: one empty day, then today empty so far.
    empty = [make_grid(day_start_s=DAY0_S + 86_400 * i) for i in range(1, 3)]
    grids = [day_grid(0, active=[(600, 618)]), *empty]
    done = run_days(grids, who)
    assert "NO_DATA" in codes(done[-1])
    waiting = run_days(grids, who, complete=[True, True, False])
    assert waiting[-1].status == "in_progress"
    assert waiting[-1].flags == ()
    # RESTING_HR_RISE: two days of a risen resting rate; the second still in progress.
    rates = [60.0] * 7 + [72.0, 72.0]
    hr_grids = [day_grid(i, active=[(600, 618)], hr_bpm=r) for i, r in enumerate(rates)]
    assert "RESTING_HR_RISE" in codes(run_days(hr_grids, who)[-1])
    last = run_days(hr_grids, who, complete=[True] * 8 + [False])[-1]
    assert "RESTING_HR_RISE" not in codes(last)
    assert not last.heart_rate.resting_elevated
    # RAMP_TOO_FAST: the day that would fire it is still in progress.
    fusion = patient(surgery_type="fusion", approach="open", surgery_date=date(2026, 3, 29))
    ramp = [day_grid(i, active=[(600, 610)]) for i in range(7)]
    ramp += [day_grid(i, active=[(600, 625), (700, 720)]) for i in range(7, 11)]
    assert "RAMP_TOO_FAST" in codes(run_days(ramp, fusion)[-1])
    assert "RAMP_TOO_FAST" not in codes(run_days(ramp, fusion, complete=[True] * 10 + [False])[-1])


def test_in_progress_days_in_the_history_count_as_missing() -> None:
    who = patient(**MAINTENANCE)
    run = [day_grid(i, active=[(600, 620)], cadence_spm=150) for i in range(2)]
    # Yesterday was stored while in progress with a running flag; it is not history.
    first = run_days(run[:1], who, complete=[False])
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in codes(first[0])
    today = analyse_day(grid=run[1], day=DAY0 + timedelta(days=1), patient=who, history=first)
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in codes(today)
    # Weekly progress counts complete days only.
    weeks = weekly_progress(summaries=[*first, today], surgery_date=who.surgery_date)
    assert sum(w.days_with_summary for w in weeks) == 1


def test_in_progress_summary_round_trips() -> None:
    grid = hr_only_grid(start_min=600, minutes=51, hr_bpm=175)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(), day_complete=False)
    document = json.loads(json.dumps(summary.to_dict()))
    assert document["status"] == "in_progress"
    assert document["judged"] is False
    assert document["targets"]["phase"] == "ramp"
    assert document["heart_rate"]["resting_source"] == "none"
    assert document["heart_rate"]["rules_checked"] is True
    assert document["heart_rate"]["not_checked_reason"].startswith("no resting heart rate known")
    rebuilt = summary_from_dict(document)
    assert rebuilt == summary
    assert not rebuilt.judged
    for broken in (
        {**document, "status": "maybe"},
        {**document, "targets": {**document["targets"], "phase": "rest"}},
        {**document, "heart_rate": {**document["heart_rate"], "resting_source": "guess"}},
    ):
        with pytest.raises(InputError):
            summary_from_dict(broken)
