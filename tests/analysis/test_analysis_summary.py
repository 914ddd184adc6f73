"""Daily summary serialisation and weekly progress."""

from __future__ import annotations

from datetime import date, timedelta

from analysis import (
    ANALYSIS_VERSION,
    DaySummary,
    analyse_day,
    load_plan,
    load_thresholds,
    weekly_progress,
)
from analysis.simulate import simulate_days
from tests.analysis.analysis_helpers import DAY0_S, patient, walking_grid

PRIMITIVES = (str, int, float, bool, type(None))


def _assert_primitive(value: object, where: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, where
            _assert_primitive(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _assert_primitive(item, f"{where}[{i}]")
    else:
        assert type(value) in PRIMITIVES, f"{where} is {type(value).__name__}"


def test_to_dict_is_plain_json_primitives() -> None:
    days = simulate_days(seed=5, n_days=3, first_day_start_s=DAY0_S, running_probability=1.0)
    summaries: list[DaySummary] = []
    for i, d in enumerate(days):
        summaries.append(
            analyse_day(
                grid=d.build_grid(),
                day=date(2026, 5, 10) + timedelta(days=i),
                patient=patient(),
                history=summaries,
            )
        )
    for summary in summaries:
        as_dict = summary.to_dict()
        _assert_primitive(as_dict)
        assert as_dict["date"] == summary.date.isoformat()
        assert as_dict["analysis_version"] == ANALYSIS_VERSION
        assert as_dict["thresholds_version"] == load_thresholds().version
        targets = as_dict["targets"]
        assert isinstance(targets, dict)
        assert targets["plan_version"] == load_plan().version
        sessions = as_dict["sessions"]
        assert isinstance(sessions, list)
        assert all(str(s["start"]).endswith("Z") for s in sessions)
    assert any(s.flags for s in summaries)
    assert any(s.sessions for s in summaries)


def test_weekly_progress() -> None:
    who = patient()  # surgery 2026-05-01: week 2 is 05-08 .. 05-14 (15–20 min/day)
    plan = {
        date(2026, 5, 8): [(600, 618)],  # on track
        date(2026, 5, 9): [(600, 610)],  # below
        date(2026, 5, 10): [(600, 620), (700, 705)],  # above
        date(2026, 5, 11): [(600, 616)],  # on track
        date(2026, 5, 15): [(600, 622)],  # week 3: on track (20–25)
    }
    summaries = [
        analyse_day(
            grid=walking_grid(
                active=active, day_start_s=DAY0_S + 86_400 * (day - date(2026, 5, 10)).days
            ),
            day=day,
            patient=who,
        )
        for day, active in plan.items()
    ]
    summaries.append(
        analyse_day(
            grid=walking_grid(
                active=[(600, 640)], worn_all_day=False, day_start_s=DAY0_S + 86_400 * 2
            ),
            day=date(2026, 5, 12),
            patient=who,
        )
    )
    week2, week3 = weekly_progress(summaries=reversed(summaries), surgery_date=who.surgery_date)
    assert (week2.week, week2.start_date, week2.end_date) == (
        2,
        date(2026, 5, 8),
        date(2026, 5, 14),
    )
    assert week2.days_with_summary == 5
    assert week2.judged_days == 4
    assert week2.median_daily_aerobic_min == 17.0  # median of 18, 10, 25, 16
    assert week2.longest_session_min == 40  # the unjudged day's walk still counts as a session
    assert week2.days_on_track == 2
    assert week2.adherence_pct == 60.0  # 3 of 5 days met the lower bound
    assert (week3.week, week3.days_on_track, week3.adherence_pct) == (3, 1, 100.0)
    assert week2.to_dict()["start_date"] == "2026-05-08"


def test_weekly_progress_of_nothing() -> None:
    assert weekly_progress(summaries=[], surgery_date=date(2026, 5, 1)) == []


def test_same_inputs_same_summary() -> None:
    grid = walking_grid(active=[(600, 640)], hr_during_bpm=140)
    first = analyse_day(grid=grid, day=date(2026, 5, 10), patient=patient())
    again = analyse_day(grid=grid, day=date(2026, 5, 10), patient=patient())
    assert first == again
    assert first.to_dict() == again.to_dict()
