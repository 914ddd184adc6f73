"""Days before surgery (pre-operative monitoring, for a baseline) are not judged against the plan.

A hub set up at the pre-operative visit records the patient's usual days; the plan starts on the
surgery day. Before it a day is ``pre_operative`` when complete with enough wear: valid for the
baseline, never "above the plan", and it raises no flag.
"""

from __future__ import annotations

from datetime import date, timedelta

from analysis import DaySummary, analyse_day
from tests.analysis.analysis_helpers import DAY0_S, patient, walking_grid

SURGERY = date(2026, 5, 17)
FIRST = SURGERY - timedelta(days=7)  # 2026-05-10, the day DAY0_S starts
WHO = patient(surgery_date=SURGERY)


def _week(minutes_per_day: list[int]) -> list[DaySummary]:
    out: list[DaySummary] = []
    for i, minutes in enumerate(minutes_per_day):
        grid = walking_grid(
            active=[(9 * 60, 9 * 60 + minutes)], day_start_s=DAY0_S + 86_400 * i, hr_during_bpm=150
        )
        out.append(analyse_day(grid=grid, day=FIRST + timedelta(days=i), patient=WHO, history=out))
    return out


def test_a_busy_week_before_surgery_raises_nothing() -> None:
    # 90-minute walks at a heart rate far above any limit: before surgery that is the baseline.
    days = _week([90] * 7)
    assert [d.status for d in days] == ["pre_operative"] * 7
    assert all(d.judged for d in days)
    assert all(d.targets.before_surgery for d in days)
    assert [f.code for d in days for f in d.flags] == []


def test_the_plan_starts_on_the_surgery_day() -> None:
    days = _week([90] * 7 + [90, 12, 12, 12])
    surgery_day = days[7]
    assert surgery_day.date == SURGERY
    assert not surgery_day.targets.before_surgery
    assert surgery_day.status == "above"
    assert {f.code for f in surgery_day.flags} >= {"DAILY_OVER_TARGET", "SESSION_TOO_LONG"}
    # The pre-operative week is not the ramp's "last week".
    assert all(f.code != "RAMP_TOO_FAST" for d in days for f in d.flags)
    assert [d.status for d in days[8:]] == ["on_track"] * 3
