"""A stored summary (``to_dict``) rebuilds into the same ``DaySummary`` (history for later days)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from analysis import (
    Clearances,
    DaySummary,
    InputError,
    PatientProfile,
    analyse_day,
    summary_from_dict,
)
from analysis.simulate import simulate_days

FIRST_DAY = date(2026, 5, 4)
FIRST_DAY_START_S = 1_777_852_800  # 2026-05-04T00:00:00Z


def _summaries() -> list[DaySummary]:
    patient = PatientProfile(
        birth_year=1960,
        surgery_type="fusion",
        approach="open",
        surgery_date=FIRST_DAY - timedelta(days=10),
        clearances=Clearances(),
    )
    days = simulate_days(
        seed=7, n_days=10, first_day_start_s=FIRST_DAY_START_S, running_probability=0.3
    )
    out: list[DaySummary] = []
    for i, sim in enumerate(days):
        out.append(
            analyse_day(
                grid=sim.build_grid(),
                day=FIRST_DAY + timedelta(days=i),
                patient=patient,
                history=out,
            )
        )
    return out


def test_round_trip_through_json_is_exact() -> None:
    summaries = _summaries()
    assert any(s.sessions for s in summaries)
    assert any(s.flags for s in summaries)
    for summary in summaries:
        stored = json.loads(json.dumps(summary.to_dict()))
        rebuilt = summary_from_dict(stored)
        assert rebuilt.to_dict() == summary.to_dict()
        assert rebuilt.judged == summary.judged
        assert rebuilt.longest_session_min == summary.longest_session_min


def test_history_from_storage_gives_the_same_judgement() -> None:
    summaries = _summaries()
    stored = [summary_from_dict(json.loads(json.dumps(s.to_dict()))) for s in summaries[:-1]]
    patient = PatientProfile(
        birth_year=1960,
        surgery_type="fusion",
        approach="open",
        surgery_date=FIRST_DAY - timedelta(days=10),
    )
    sim = simulate_days(
        seed=7, n_days=10, first_day_start_s=FIRST_DAY_START_S, running_probability=0.3
    )[-1]
    again = analyse_day(
        grid=sim.build_grid(), day=FIRST_DAY + timedelta(days=9), patient=patient, history=stored
    )
    assert again.to_dict() == summaries[-1].to_dict()


@pytest.mark.parametrize("broken", [{}, {"date": "2026-05-04"}, {"targets": None}])
def test_not_a_summary_is_an_input_error(broken: dict[str, object]) -> None:
    with pytest.raises(InputError):
        summary_from_dict(broken)
