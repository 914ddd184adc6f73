"""Session (bout) detection: edges, interruptions, kinds, midnight crossing, DST days."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from analysis import InputError, MinuteGrid, Session, analyse_day, detect_sessions, load_thresholds
from analysis.sessions import activity_masks
from tests.analysis.analysis_helpers import DAY0_S, make_grid, patient, walking_grid

DAY0 = date(2026, 5, 10)
TH = load_thresholds().sessions


def sessions_of(grid: MinuteGrid) -> tuple[Session, ...]:
    masks = activity_masks(grid, thresholds=TH)
    return detect_sessions(grid, masks=masks, thresholds=TH, limit_bpm=None)


@pytest.mark.parametrize(("length_min", "expected"), [(4, 0), (5, 1), (6, 1)])
def test_minimum_session_length_is_five_minutes(length_min: int, expected: int) -> None:
    found = sessions_of(walking_grid(active=[(600, 600 + length_min)]))
    assert len(found) == expected
    if expected:
        assert found[0].duration_min == length_min
        assert found[0].active_minutes == length_min


def test_gap_of_two_minutes_is_bridged() -> None:
    found = sessions_of(walking_grid(active=[(600, 605), (607, 612)]))
    assert len(found) == 1
    assert found[0].start_s == DAY0_S + 600 * 60
    assert found[0].end_s == DAY0_S + 612 * 60
    assert found[0].duration_min == 12
    assert found[0].active_minutes == 10
    assert found[0].steps == 1000


def test_gap_of_three_minutes_splits() -> None:
    found = sessions_of(walking_grid(active=[(600, 605), (608, 613)]))
    assert [s.duration_min for s in found] == [5, 5]


def test_two_short_pieces_bridged_make_a_session() -> None:
    # 3 + 2 active minutes around a 2-minute pause: 7 minutes long, 5 active.
    found = sessions_of(walking_grid(active=[(600, 603), (605, 607)]))
    assert len(found) == 1
    assert found[0].duration_min == 7
    assert found[0].active_minutes == 5


def test_slow_shuffling_is_not_a_session() -> None:
    assert sessions_of(walking_grid(active=[(600, 640)], cadence_spm=59)) == ()


def test_session_statistics() -> None:
    grid = walking_grid(active=[(600, 610)], cadence_spm=110, hr_during_bpm=120)
    (session,) = sessions_of(grid)
    assert session.kind == "walking"
    assert session.cadence_mean_per_min == pytest.approx(110)
    assert session.cadence_max_per_min == pytest.approx(110)
    assert session.hr_mean_bpm == pytest.approx(120)
    assert session.hr_max_bpm == pytest.approx(120)
    assert session.minutes_above_limit is None
    masks = activity_masks(grid, thresholds=TH)
    (limited,) = detect_sessions(grid, masks=masks, thresholds=TH, limit_bpm=115)
    assert limited.minutes_above_limit == 10


def test_running_by_cadence_and_by_rsc_bit() -> None:
    (fast,) = sessions_of(walking_grid(active=[(600, 610)], cadence_spm=150))
    assert fast.kind == "running"
    assert fast.running_minutes == 10
    (flagged,) = sessions_of(walking_grid(active=[(600, 610)], cadence_spm=120, running=True))
    assert flagged.kind == "running"


def test_bike_session_and_steps_on_the_bike() -> None:
    t = DAY0_S + 60.0 * np.arange(600, 620) + 10
    grid = make_grid(
        hr_t_s=DAY0_S + 60.0 * np.arange(1440),
        hr_bpm=np.full(1440, 80.0),
        bike_t_s=t,
        bike_rpm=np.full(t.size, 65.0),
        bike_power_w=np.full(t.size, 50.0),
        # The band counts arm swing as steps while pedalling: those minutes stay "biking".
        steps_end_t_s=t + 50,
        steps_count=np.full(t.size, 70.0),
        steps_interval_s=np.full(t.size, 60.0),
    )
    (ride,) = sessions_of(grid)
    assert ride.kind == "biking"
    assert ride.duration_min == 20
    assert ride.cadence_mean_per_min == pytest.approx(65)


def test_session_crossing_midnight_belongs_to_the_day_it_started() -> None:
    day1_s = DAY0_S + 86_400
    before = walking_grid(active=[(1430, 1440)])
    after = walking_grid(active=[(0, 10)], day_start_s=day1_s)
    first = analyse_day(grid=before, day=DAY0, patient=patient(), next_grid=after)
    second = analyse_day(grid=after, day=date(2026, 5, 11), patient=patient(), previous_grid=before)
    (session,) = first.sessions
    assert session.duration_min == 20
    assert session.end_s == day1_s + 600
    assert first.aerobic_minutes == 20
    assert second.sessions == ()
    assert second.aerobic_minutes == 0
    # Steps stay with the calendar day they were taken on.
    assert first.steps == 1000
    assert second.steps == 1000


def test_without_neighbours_the_day_edge_cuts_the_session() -> None:
    after = walking_grid(active=[(0, 10)], day_start_s=DAY0_S + 86_400)
    summary = analyse_day(grid=after, day=date(2026, 5, 11), patient=patient())
    assert [s.duration_min for s in summary.sessions] == [10]


def test_neighbour_grids_must_adjoin() -> None:
    grid = walking_grid(active=[])
    with pytest.raises(InputError) as info:
        analyse_day(grid=grid, day=DAY0, patient=patient(), next_grid=grid)
    assert info.value.fields["field"] == "next_grid"


@pytest.mark.parametrize("n_minutes", [1380, 1500])
def test_dst_day_session_at_the_end(n_minutes: int) -> None:
    grid = walking_grid(active=[(n_minutes - 6, n_minutes)], n_minutes=n_minutes)
    summary = analyse_day(grid=grid, day=DAY0, patient=patient())
    assert summary.n_minutes == n_minutes
    assert summary.wear_minutes == n_minutes
    (session,) = summary.sessions
    assert session.end_s == DAY0_S + 60 * n_minutes
