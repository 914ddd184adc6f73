"""Flags on crafted days: each code fires when it should, once, and not otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from analysis import Clearances, DaySummary, MinuteGrid, PatientProfile, analyse_day
from tests.analysis.analysis_helpers import DAY0_S, make_grid, patient, walking_grid

DAY0 = date(2026, 5, 10)  # week 2 after the helper patient's surgery: 15–20 min, sessions ≤ 20


def codes(summary: DaySummary) -> list[str]:
    return [f.code for f in summary.flags]


def run_days(
    grids: Sequence[MinuteGrid], who: PatientProfile, first: date = DAY0
) -> list[DaySummary]:
    """Analyse consecutive days, each with the summaries before it as history."""
    out: list[DaySummary] = []
    for i, grid in enumerate(grids):
        out.append(analyse_day(grid=grid, day=first + timedelta(days=i), patient=who, history=out))
    return out


def day_grid(i: int, **kw: object) -> MinuteGrid:
    return walking_grid(day_start_s=DAY0_S + 86_400 * i, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("minutes", "fires"), [(2, False), (3, True)])
def test_hr_over_limit_needs_three_consecutive_minutes(minutes: int, fires: bool) -> None:
    grid = walking_grid(active=[(600, 600 + minutes), (700, 706)], hr_during_bpm=140)
    # Second bout: alternating minutes above the limit never make a run of 3.
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(hr_limit_bpm=130))
    hr_flags = [f for f in summary.flags if f.code == "HR_OVER_LIMIT"]
    if minutes == 3:
        (flag,) = hr_flags
        assert flag.severity == "warning"
        assert flag.evidence["limit_bpm"] == 130
        assert flag.evidence["longest_min"] == 6
        assert flag.evidence["episodes"] == 2
        assert flag.evidence["first_start"] == "2026-05-10T10:00:00Z"
        assert "130 beats per minute" in flag.message
    else:
        assert [f.evidence["episodes"] for f in hr_flags] == [1]
    assert summary.heart_rate.minutes_above_limit == minutes + 6


def test_default_limit_is_sixty_percent_of_reserve() -> None:
    grid = walking_grid(active=[(600, 610)], hr_bpm=62, hr_during_bpm=130)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient())
    hr = summary.heart_rate
    assert hr.resting_bpm == 62
    assert hr.hr_max_bpm == pytest.approx(208 - 0.7 * 66)
    assert hr.limit_bpm == pytest.approx(62 + 0.6 * (hr.hr_max_bpm - 62))
    assert (hr.minutes_light, hr.minutes_moderate, hr.minutes_vigorous) == (1430, 0, 10)
    assert "HR_OVER_LIMIT" in codes(summary)


def test_beta_blocker_turns_heart_rate_rules_off() -> None:
    grid = walking_grid(active=[(600, 620)], hr_during_bpm=150)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(beta_blocker=True, hr_limit_bpm=100))
    hr = summary.heart_rate
    assert not hr.rules_active
    assert hr.limit_bpm is None
    assert hr.minutes_above_limit is None
    assert hr.minutes_moderate is None
    assert summary.sessions[0].minutes_above_limit is None
    assert "HR_OVER_LIMIT" not in codes(summary)
    # Cadence and duration still carry the judgement.
    assert summary.status == "on_track"
    assert summary.aerobic_minutes == 20


def test_overrides_for_resting_and_max_heart_rate() -> None:
    grid = walking_grid(active=[], hr_bpm=70)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient(resting_hr_bpm=55, max_hr_bpm=150))
    assert summary.heart_rate.resting_bpm == 55
    assert summary.heart_rate.resting_source == "override"
    assert summary.heart_rate.limit_bpm == pytest.approx(55 + 0.6 * 95)


@pytest.mark.parametrize(("minutes", "fires"), [(30, False), (31, True)])
def test_session_too_long_means_well_beyond(minutes: int, fires: bool) -> None:
    summary = analyse_day(
        grid=walking_grid(active=[(600, 600 + minutes)]), day=DAY0, patient=patient()
    )
    assert ("SESSION_TOO_LONG" in codes(summary)) is fires
    assert ("DAILY_OVER_TARGET" in codes(summary)) is fires  # week 2: 20 min/day × 1.5
    if fires:
        flag = next(f for f in summary.flags if f.code == "SESSION_TOO_LONG")
        assert flag.evidence["duration_min"] == minutes
        assert flag.evidence["max_session_min"] == 20
        assert flag.evidence["plan_version"] == summary.targets.plan_version


def test_high_impact_before_clearance_only() -> None:
    grid = walking_grid(active=[(600, 606)], cadence_spm=150)
    before = analyse_day(grid=grid, day=DAY0, patient=patient())
    (flag,) = [f for f in before.flags if f.code == "HIGH_IMPACT_BEFORE_CLEARANCE"]
    assert flag.severity == "urgent"
    assert flag.evidence["running_minutes"] == 6
    cleared = patient(clearances=Clearances(running=DAY0))
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" not in codes(
        analyse_day(grid=grid, day=DAY0, patient=cleared)
    )


def test_a_single_fast_minute_is_not_running() -> None:
    grid = walking_grid(active=[(600, 601)], cadence_spm=150)
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" not in codes(
        analyse_day(grid=grid, day=DAY0, patient=patient())
    )


def test_insufficient_wear_is_not_judged() -> None:
    grid = walking_grid(active=[(600, 620)], worn_all_day=False)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient())
    assert summary.wear_minutes == 20
    assert summary.status == "insufficient_data"
    assert summary.aerobic_minutes == 20


def test_no_data_fires_once_on_the_second_day() -> None:
    empty = [make_grid(day_start_s=DAY0_S + 86_400 * i) for i in range(1, 5)]
    summaries = run_days([day_grid(0, active=[(600, 618)]), *empty], patient())
    assert [("NO_DATA" in codes(s)) for s in summaries] == [False, False, True, False, False]
    flag = next(f for f in summaries[2].flags if f.code == "NO_DATA")
    assert flag.evidence["first_day"] == "2026-05-11"
    assert all(s.status == "insufficient_data" for s in summaries[1:])


def test_below_target_streak_skips_unjudged_days() -> None:
    grids = [
        day_grid(0, active=[(600, 606)]),
        day_grid(1, active=[(600, 606)]),
        day_grid(2, active=[(600, 606)], worn_all_day=False),
        day_grid(3, active=[(600, 606)]),
        day_grid(4, active=[(600, 606)]),
    ]
    summaries = run_days(grids, patient())
    assert [s.status for s in summaries] == [
        "below",
        "below",
        "insufficient_data",
        "below",
        "below",
    ]
    assert [("BELOW_TARGET_STREAK" in codes(s)) for s in summaries] == [
        False,
        False,
        False,
        True,
        False,
    ]


def test_ramp_too_fast_fires_once() -> None:
    # Open fusion, weeks 7–8: 20–30 min/day, sessions ≤ 30 (still the ramp).
    who = patient(surgery_type="fusion", approach="open", surgery_date=date(2026, 3, 29))
    grids = [day_grid(i, active=[(600, 610)]) for i in range(7)]
    grids += [day_grid(i, active=[(600, 625), (700, 720)]) for i in range(7, 14)]
    summaries = run_days(grids, who)
    fired = [i for i, s in enumerate(summaries) if "RAMP_TOO_FAST" in codes(s)]
    assert fired == [10]  # the first day this week's median (45) leaves last week's (10)
    flag = next(f for f in summaries[10].flags if f.code == "RAMP_TOO_FAST")
    assert flag.evidence["last_week_median_min"] == 10
    assert flag.evidence["this_week_median_min"] == 45


def test_steady_progress_is_not_a_ramp() -> None:
    who = patient(surgery_type="fusion", approach="open", surgery_date=date(2026, 3, 29))
    grids = [day_grid(i, active=[(600, 620 + i)]) for i in range(14)]
    assert not any("RAMP_TOO_FAST" in codes(s) for s in run_days(grids, who))


def test_resting_hr_rise_on_two_consecutive_days() -> None:
    rates = [60.0] * 7 + [72.0, 72.0, 72.0]
    grids = [day_grid(i, active=[(600, 618)], hr_bpm=r) for i, r in enumerate(rates)]
    summaries = run_days(grids, patient())
    fired = [i for i, s in enumerate(summaries) if "RESTING_HR_RISE" in codes(s)]
    assert fired == [8]
    flag = next(f for f in summaries[8].flags if f.code == "RESTING_HR_RISE")
    assert flag.severity == "urgent"
    assert flag.evidence["baseline_bpm"] == 60
    assert flag.evidence["resting_bpm"] == 72


def test_resting_hr_rise_ignored_on_beta_blockers_and_small_rises() -> None:
    rates = [60.0] * 7 + [69.0, 69.0]
    grids = [day_grid(i, active=[(600, 618)], hr_bpm=r) for i, r in enumerate(rates)]
    assert not any("RESTING_HR_RISE" in codes(s) for s in run_days(grids, patient()))
    rates = [60.0] * 7 + [80.0, 80.0]
    grids = [day_grid(i, active=[(600, 618)], hr_bpm=r) for i, r in enumerate(rates)]
    blocked = run_days(grids, patient(beta_blocker=True))
    assert not any("RESTING_HR_RISE" in codes(s) for s in blocked)


def test_on_track_day_has_no_flags() -> None:
    summary = analyse_day(
        grid=walking_grid(active=[(600, 609), (900, 909)]), day=DAY0, patient=patient()
    )
    assert summary.status == "on_track"
    assert summary.flags == ()
