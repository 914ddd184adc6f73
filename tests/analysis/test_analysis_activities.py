"""Declared activities (a watch's workout, a FIT session's sport) inform session detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from analysis import (
    DaySummary,
    DeclaredActivity,
    InputError,
    MinuteGrid,
    PatientProfile,
    analyse_day,
    build_minute_grid,
)

DAY = date(2026, 5, 11)
START_S = int(datetime(2026, 5, 11, tzinfo=UTC).timestamp())
EMPTY = np.zeros(0)
PATIENT = PatientProfile(
    birth_year=1965,
    surgery_type="discectomy",
    approach="open",
    surgery_date=DAY - timedelta(weeks=4),
)


def _at(hour: int, minute: int = 0) -> int:
    return START_S + 3600 * hour + 60 * minute


def _grid(
    *,
    hr: tuple[int, int, float],
    cadence: tuple[int, int, float] | None = None,
    bike: tuple[int, int, float] | None = None,
) -> MinuteGrid:
    """Heart rate every 5 s over ``hr`` (start s, end s, bpm); cadence and crank cadence (spm or
    rpm) every 5 s over their spans."""

    def series(span: tuple[int, int, float] | None) -> tuple[np.ndarray, np.ndarray]:
        if span is None:
            return EMPTY, EMPTY
        t = np.arange(span[0], span[1], 5, dtype=np.float64)
        return t, np.full(t.size, span[2])

    hr_t, hr_bpm = series(hr)
    cad_t, cad = series(cadence)
    bike_t, rpm = series(bike)
    return build_minute_grid(
        day_start_s=START_S,
        n_minutes=1440,
        hr_t_s=hr_t,
        hr_bpm=hr_bpm,
        steps_end_t_s=EMPTY,
        steps_count=EMPTY,
        steps_interval_s=EMPTY,
        cadence_t_s=cad_t,
        cadence_spm=cad,
        cadence_running=np.zeros(cad_t.size, dtype=bool),
        bike_t_s=bike_t,
        bike_rpm=rpm,
        bike_power_w=np.full(bike_t.size, np.nan),
    )


def _analyse(grid: MinuteGrid, *activities: DeclaredActivity) -> DaySummary:
    return analyse_day(grid=grid, day=DAY, patient=PATIENT, activities=activities)


def test_a_declared_ride_with_heart_rate_only_is_biking() -> None:
    # A watch's 30-minute cycling workout: heart rate, no crank cadence, no steps.
    grid = _grid(hr=(_at(8), _at(12), 110))
    ride = DeclaredActivity(kind="bike", start_s=_at(10), end_s=_at(10, 30))
    assert _analyse(grid).sessions == ()
    summary = _analyse(grid, ride)
    (session,) = summary.sessions
    assert session.kind == "biking"
    assert (session.start_s, session.end_s) == (_at(10), _at(10, 30))
    assert session.active_minutes == 30
    assert session.cadence_mean_per_min == 0.0  # no cadence was measured
    assert session.hr_mean_bpm == 110
    assert summary.aerobic_minutes_by_kind["biking"] == summary.aerobic_minutes == 30


def test_measured_crank_cadence_decides_inside_a_declared_ride() -> None:
    # Freewheeling (10 rpm, below the 30 rpm threshold) for the first 10 minutes of the ride.
    grid = _grid(hr=(_at(8), _at(12), 110), bike=(_at(10), _at(10, 10), 10.0))
    ride = DeclaredActivity(kind="bike", start_s=_at(10), end_s=_at(10, 30))
    (session,) = _analyse(grid, ride).sessions
    assert (session.start_s, session.active_minutes) == (_at(10, 10), 20)


def test_a_declared_walk_is_walking_at_any_cadence() -> None:
    # 150 steps/min for 20 minutes is running by cadence (>= 140); the watch says it was a walk.
    grid = _grid(hr=(_at(8), _at(12), 105), cadence=(_at(10), _at(10, 20), 150.0))
    running = _analyse(grid)
    assert [s.kind for s in running.sessions] == ["running"]
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in {f.code for f in running.flags}
    walk = DeclaredActivity(kind="walk", start_s=_at(10), end_s=_at(10, 20))
    summary = _analyse(grid, walk)
    assert [(s.kind, s.active_minutes, s.running_minutes) for s in summary.sessions] == [
        ("walking", 20, 0)
    ]
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" not in {f.code for f in summary.flags}


def test_unworn_minutes_never_count_and_far_activities_change_nothing() -> None:
    grid = _grid(hr=(_at(8), _at(12), 100))
    # 17:00-17:15 is more than an hour after the last heart rate: not worn, not counted.
    unworn = DeclaredActivity(kind="bike", start_s=_at(17), end_s=_at(17, 15))
    elsewhere = DeclaredActivity(kind="walk", start_s=_at(48), end_s=_at(49))
    assert _analyse(grid, unworn).sessions == ()
    assert _analyse(grid, unworn, elsewhere).to_dict() == _analyse(grid).to_dict()


def test_an_activity_must_end_after_it_starts() -> None:
    with pytest.raises(InputError):
        DeclaredActivity(kind="bike", start_s=_at(10), end_s=_at(10))
    with pytest.raises(InputError):
        DeclaredActivity(kind="swim", start_s=_at(10), end_s=_at(11))  # type: ignore[arg-type]


def test_a_minute_counts_when_at_least_half_of_it_is_inside() -> None:
    grid = _grid(hr=(_at(8), _at(12), 110))
    # 10:00:40 to 10:20:20: a third of 10:00 and of 10:20 is inside: the 19 minutes 10:01-10:19.
    ride = DeclaredActivity(kind="bike", start_s=_at(10) + 40, end_s=_at(10, 20) + 20)
    (session,) = _analyse(grid, ride).sessions
    assert (session.start_s, session.end_s, session.active_minutes) == (_at(10, 1), _at(10, 20), 19)
