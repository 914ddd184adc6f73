"""A recovery story with planted events: every event is flagged, compliant control days are not.

Thirteen weeks of one patient after an endoscopic discectomy, built minute by minute so that each
day is either a *control* day (walking inside the plan's range, sessions inside the longest
allowed, heart rate at rest between walks) or carries one planted event. The story covers the
ramp (weeks 1–4: doing too much, too long a session, too fast a ramp, heart rate over the limit,
running before clearance, days without data, a resting heart-rate rise, days below target) and
maintenance (weeks 9–13: heart rate, running, no data, resting heart rate, below target).

Each planted event names the flag it must raise and the day that flag must be on; control days
must have no flag at all, and no warning or urgent flag may appear anywhere it was not planted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pytest

from analysis import (
    DaySummary,
    MinuteGrid,
    PatientProfile,
    analyse_day,
    load_plan,
    resolve_day_targets,
)
from tests.analysis.analysis_helpers import make_grid

SURGERY = date(2026, 3, 2)
#: 2026-03-02 00:00:00 UTC: the story's days are UTC days.
SURGERY_START_S = 1_772_409_600
N_DAYS = 13 * 7
PATIENT = PatientProfile(
    birth_year=1970, surgery_type="discectomy", approach="endoscopic", surgery_date=SURGERY
)
REST_BPM = 62.0
#: Heart rate while walking at the plan's pace: well inside every phase's limit.
WALK_BPM = 95.0
#: Heart rate of the "too hard" planted walk: above the limit of both phases (age 56: HRmax ≈ 169
#: by Tanaka 2001, maintenance limit at 80 % of reserve ≈ 148 bpm).
HARD_BPM = 160.0
WALK_SPM = 100.0  # Tudor-Locke: ≈ 100 steps/min is moderate walking
RUN_SPM = 160.0  # above the 140 steps/min running threshold
#: Walks start at 09:00; further walks follow every two hours.
FIRST_WALK_MIN = 9 * 60
WALK_SPACING_MIN = 120


@dataclass(frozen=True)
class Day:
    """How one story day is built, and what it must raise."""

    walks_min: tuple[int, ...] = ()
    rest_bpm: float = REST_BPM
    walk_bpm: float = WALK_BPM
    run_min: int = 0
    worn: bool = True
    expect: frozenset[str] = field(default_factory=frozenset)
    control: bool = False


def _targets(day: date) -> tuple[float, float, float]:
    t = resolve_day_targets(
        plan=load_plan(),
        day=day,
        surgery_type=PATIENT.surgery_type,
        approach=PATIENT.approach,
        surgery_date=SURGERY,
        cleared_by_date={},
    )
    return t.aerobic_min_low, t.aerobic_min_high, t.max_session_min


def _compliant_walks(day: date) -> tuple[int, ...]:
    """Walks adding up to the middle of the plan's range, none longer than allowed."""
    low, high, longest = _targets(day)
    total = round((low + high) / 2)
    piece = int(min(longest, 20))
    walks = [piece] * (total // piece)
    if total % piece:
        walks.append(total % piece)
    # A walk shorter than a session (5 min) would not count: fold it into the others.
    if walks[-1] < 5 and len(walks) > 1:
        extra = walks.pop()
        walks[-1] += extra
    return tuple(walks)


def _story() -> list[Day]:
    days: list[Day] = []
    for i in range(N_DAYS):
        days.append(Day(walks_min=_compliant_walks(SURGERY + timedelta(days=i)), control=True))

    def plant(index: int, day: Day) -> None:
        days[index] = day

    def on(index: int) -> date:
        return SURGERY + timedelta(days=index)

    # Week 1, day 3: 75 minutes in one walk against a plan of 10–15 minutes a day.
    plant(2, Day(walks_min=(75,), expect=frozenset({"DAILY_OVER_TARGET", "SESSION_TOO_LONG"})))
    # Week 2: a walk far too hard for the ramp.
    walks = _compliant_walks(on(9))
    plant(9, Day(walks_min=walks, walk_bpm=HARD_BPM, expect=frozenset({"HR_OVER_LIMIT"})))
    # Week 2: ten minutes of running before running is cleared.
    plant(
        11,
        Day(
            walks_min=_compliant_walks(on(11)),
            run_min=10,
            expect=frozenset({"HIGH_IMPACT_BEFORE_CLEARANCE"}),
        ),
    )
    # Week 3: three days well below the plan's lower bound.
    for k in (15, 16):
        plant(k, Day(walks_min=(5,)))
    plant(17, Day(walks_min=(5,), expect=frozenset({"BELOW_TARGET_STREAK"})))
    # Week 3–4: the band stays in the drawer for two days.
    plant(19, Day(worn=False))
    plant(20, Day(worn=False, expect=frozenset({"NO_DATA"})))
    # Week 4: resting heart rate 16 bpm above the usual on two consecutive days.
    plant(22, Day(walks_min=_compliant_walks(on(22)), rest_bpm=REST_BPM + 16))
    plant(
        23,
        Day(
            walks_min=_compliant_walks(on(23)),
            rest_bpm=REST_BPM + 16,
            expect=frozenset({"RESTING_HR_RISE"}),
        ),
    )
    # Week 4: a fast ramp — every day of the week at the top of the plan and beyond, in
    # allowed sessions, against the middle of the plan the week before.
    _, high, longest = _targets(on(24))
    fast = round(high * 1.4)
    walks_fast = tuple([int(longest)] * (fast // int(longest)) + [fast % int(longest) or 0])
    walks_fast = tuple(w for w in walks_fast if w >= 5)
    for k in (24, 25):
        plant(k, Day(walks_min=walks_fast))
    plant(26, Day(walks_min=walks_fast, expect=frozenset({"RAMP_TOO_FAST"})))
    # Weeks 9–13 (maintenance).
    plant(
        59,
        Day(
            walks_min=_compliant_walks(on(59)),
            walk_bpm=HARD_BPM,
            expect=frozenset({"HR_OVER_LIMIT"}),
        ),
    )
    plant(
        66,
        Day(
            walks_min=_compliant_walks(on(66)),
            run_min=10,
            expect=frozenset({"HIGH_IMPACT_BEFORE_CLEARANCE"}),
        ),
    )
    plant(71, Day(worn=False))
    plant(72, Day(worn=False, expect=frozenset({"NO_DATA"})))
    plant(76, Day(walks_min=_compliant_walks(on(76)), rest_bpm=REST_BPM + 16))
    plant(
        77,
        Day(
            walks_min=_compliant_walks(on(77)),
            rest_bpm=REST_BPM + 16,
            expect=frozenset({"RESTING_HR_RISE"}),
        ),
    )
    for k in (82, 83):
        plant(k, Day(walks_min=(5,)))
    plant(84, Day(walks_min=(5,), expect=frozenset({"BELOW_TARGET_STREAK"})))
    return days


def _grid(index: int, day: Day) -> MinuteGrid:
    start_s = SURGERY_START_S + 86_400 * index
    if not day.worn:
        return make_grid(day_start_s=start_s)
    hr = np.full(1440, day.rest_bpm)
    cadence = np.zeros(1440)
    at = FIRST_WALK_MIN
    for length in day.walks_min:
        cadence[at : at + length] = WALK_SPM
        hr[at : at + length] = day.walk_bpm
        at += WALK_SPACING_MIN
    if day.run_min:
        run_at = 18 * 60
        cadence[run_at : run_at + day.run_min] = RUN_SPM
        hr[run_at : run_at + day.run_min] = HARD_BPM - 10
    minutes = np.arange(1440)
    moving = np.flatnonzero(cadence > 0)
    return make_grid(
        day_start_s=start_s,
        hr_t_s=start_s + 60.0 * minutes + 30,
        hr_bpm=hr,
        steps_end_t_s=start_s + 60.0 * (moving + 1),
        steps_count=cadence[moving],
        steps_interval_s=np.full(moving.size, 60.0),
    )


@pytest.fixture(scope="module")
def story() -> list[tuple[Day, DaySummary]]:
    days = _story()
    grids = [_grid(i, d) for i, d in enumerate(days)]
    summaries: list[DaySummary] = []
    for i, grid in enumerate(grids):
        summaries.append(
            analyse_day(
                grid=grid,
                day=SURGERY + timedelta(days=i),
                patient=PATIENT,
                history=summaries,
                previous_grid=grids[i - 1] if i else None,
                next_grid=grids[i + 1] if i + 1 < len(grids) else None,
                day_complete=True,
            )
        )
    return list(zip(days, summaries, strict=True))


def test_every_planted_event_is_flagged_on_its_day(story: list[tuple[Day, DaySummary]]) -> None:
    missed = [
        (s.date.isoformat(), sorted(d.expect - {f.code for f in s.flags}))
        for d, s in story
        if d.expect - {f.code for f in s.flags}
    ]
    assert missed == []


def test_control_days_raise_no_flag(story: list[tuple[Day, DaySummary]]) -> None:
    noisy = [
        (s.date.isoformat(), s.targets.week, [f.code for f in s.flags])
        for d, s in story
        if d.control and s.flags
    ]
    assert noisy == []
    assert sum(d.control for d, _ in story) >= 60


def test_no_warning_where_nothing_was_planted(story: list[tuple[Day, DaySummary]]) -> None:
    unplanned = [
        (s.date.isoformat(), f.code)
        for d, s in story
        for f in s.flags
        if f.severity != "info" and f.code not in d.expect
    ]
    assert unplanned == []


def test_control_days_are_on_track(story: list[tuple[Day, DaySummary]]) -> None:
    off = [(s.date.isoformat(), s.status) for d, s in story if d.control and s.status != "on_track"]
    assert off == []
