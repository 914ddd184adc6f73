"""Resting heart rate is compared like with like: estimates with the night against each other.

Asleep the heart beats a few times a minute slower than awake at rest, so a day on which the band
came off for the night has a resting estimate several beats higher than a day worn around the
clock. Without telling them apart, two nights off the wrist look like a resting heart-rate rise:
an urgent false alarm (seen on the demo's simulated patients, who take the band off some nights).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from analysis import DaySummary, MinuteGrid, analyse_day
from tests.analysis.analysis_helpers import DAY0_S, make_grid, patient

FIRST = date(2026, 5, 10)
REST_BPM = 57.0
#: Asleep about 4 beats below resting, awake and about 8 above (the simulated band's offsets).
ASLEEP_BPM, AWAKE_BPM = REST_BPM - 4, REST_BPM + 8
WHO = patient(surgery_date=FIRST - timedelta(weeks=6))


def _day(index: int, *, night: bool, rise_bpm: float = 0.0) -> MinuteGrid:
    start_s = DAY0_S + 86_400 * index
    minutes = np.arange(1440) if night else np.arange(7 * 60, 22 * 60)
    hr = np.where(minutes < 6 * 60, ASLEEP_BPM, AWAKE_BPM) + rise_bpm
    walk = np.arange(10 * 60, 10 * 60 + 25)  # a 25-minute walk at 10:00
    hr[np.isin(minutes, walk)] = AWAKE_BPM + 30
    return make_grid(
        day_start_s=start_s,
        hr_t_s=start_s + 60.0 * minutes + 30,
        hr_bpm=hr,
        steps_end_t_s=start_s + 60.0 * (walk + 1),
        steps_count=np.full(walk.size, 100.0),
        steps_interval_s=np.full(walk.size, 60.0),
    )


def _run(grids: list[MinuteGrid]) -> list[DaySummary]:
    out: list[DaySummary] = []
    for i, grid in enumerate(grids):
        out.append(analyse_day(grid=grid, day=FIRST + timedelta(days=i), patient=WHO, history=out))
    return out


def _rises(summaries: list[DaySummary]) -> list[str]:
    return [s.date.isoformat() for s in summaries for f in s.flags if f.code == "RESTING_HR_RISE"]


def test_nights_off_the_wrist_are_not_a_resting_rise() -> None:
    grids = [_day(i, night=True) for i in range(14)] + [_day(i, night=False) for i in (14, 15)]
    summaries = _run(grids)
    assert [s.heart_rate.resting_night for s in summaries[-2:]] == [False, False]
    # The day-only estimate is higher (no sleep in it), yet nothing compares it with the nights.
    assert summaries[-1].heart_rate.resting_bpm is not None
    assert summaries[-1].heart_rate.resting_bpm > summaries[0].heart_rate.resting_bpm + 10  # type: ignore[operator]
    assert summaries[-1].heart_rate.resting_baseline_bpm is None
    assert _rises(summaries) == []


def test_a_real_rise_with_the_night_worn_is_still_flagged() -> None:
    grids = [_day(i, night=True) for i in range(14)]
    grids += [_day(i, night=True, rise_bpm=12) for i in (14, 15)]
    summaries = _run(grids)
    assert summaries[-1].heart_rate.resting_night is True
    assert _rises(summaries) == [summaries[-1].date.isoformat()]


def test_day_only_estimates_have_a_baseline_of_their_own() -> None:
    grids = [_day(i, night=False) for i in range(14)]
    grids += [_day(i, night=False, rise_bpm=12) for i in (14, 15)]
    summaries = _run(grids)
    assert summaries[13].heart_rate.resting_baseline_bpm == AWAKE_BPM
    assert _rises(summaries) == [summaries[-1].date.isoformat()]
