"""Seeded simulated patient-weeks pinned by snapshot files.

Each scenario simulates two weeks of one patient with ``numpy.random.default_rng(seed)``,
analyses every day with the days before as history and the neighbouring grids, and compares the
summaries and weekly progress with ``snapshots/<scenario>.json``. After an intended change of
behaviour, regenerate with ``REHAB_UPDATE_SNAPSHOTS=1 pytest tests/analysis`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from analysis import Clearances, DaySummary, PatientProfile, analyse_day, weekly_progress
from analysis.simulate import simulate_days

SNAPSHOTS = Path(__file__).parent / "snapshots"
FIRST_DAY = date(2026, 5, 4)
FIRST_DAY_START_S = 1_777_852_800  # 2026-05-04T00:00:00Z
# Decimal places kept for floats: the snapshot pins behaviour, not the last bit of rounding.
FLOAT_DIGITS = 6


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    patient: PatientProfile
    daily_walk_min: float
    non_wear_day_probability: float
    running_probability: float
    bike_probability: float


SCENARIOS = (
    Scenario(
        name="discectomy_steady",
        seed=11,
        patient=PatientProfile(
            birth_year=1972,
            surgery_type="discectomy",
            approach="endoscopic",
            surgery_date=date(2026, 4, 27),
        ),
        daily_walk_min=18,
        non_wear_day_probability=0.05,
        running_probability=0.0,
        bike_probability=0.2,
    ),
    Scenario(
        name="fusion_overdoing_it",
        seed=12,
        patient=PatientProfile(
            birth_year=1958, surgery_type="fusion", approach="open", surgery_date=date(2026, 4, 20)
        ),
        daily_walk_min=45,
        non_wear_day_probability=0.0,
        running_probability=0.3,
        bike_probability=0.3,
    ),
    Scenario(
        name="beta_blocker_lapsing",
        seed=13,
        patient=PatientProfile(
            birth_year=1950,
            surgery_type="laminectomy",
            approach="open",
            surgery_date=date(2026, 4, 13),
            beta_blocker=True,
            clearances=Clearances(running=date(2026, 5, 1)),
        ),
        daily_walk_min=8,
        non_wear_day_probability=0.3,
        running_probability=0.0,
        bike_probability=0.1,
    ),
)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def run_scenario(scenario: Scenario) -> dict[str, Any]:
    days = simulate_days(
        seed=scenario.seed,
        n_days=14,
        first_day_start_s=FIRST_DAY_START_S,
        daily_walk_min=scenario.daily_walk_min,
        non_wear_day_probability=scenario.non_wear_day_probability,
        running_probability=scenario.running_probability,
        bike_probability=scenario.bike_probability,
    )
    grids = [d.build_grid() for d in days]
    summaries: list[DaySummary] = []
    for i, grid in enumerate(grids):
        summaries.append(
            analyse_day(
                grid=grid,
                day=FIRST_DAY + timedelta(days=i),
                patient=scenario.patient,
                history=summaries,
                previous_grid=grids[i - 1] if i else None,
                next_grid=grids[i + 1] if i + 1 < len(grids) else None,
            )
        )
    weeks = weekly_progress(summaries=summaries, surgery_date=scenario.patient.surgery_date)
    result = {
        "days": [s.to_dict() for s in summaries],
        "weeks": [w.to_dict() for w in weeks],
    }
    # A JSON round trip proves the summaries are JSON-safe primitives.
    rounded: dict[str, Any] = _rounded(json.loads(json.dumps(result, allow_nan=False)))
    return rounded


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_simulated_weeks_match_their_snapshot(scenario: Scenario) -> None:
    actual = run_scenario(scenario)
    path = SNAPSHOTS / f"{scenario.name}.json"
    if os.environ.get("REHAB_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected


def test_scenarios_cover_the_statuses_and_flags_they_are_meant_to() -> None:
    flags: dict[str, set[str]] = {}
    statuses: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        days = run_scenario(scenario)["days"]
        flags[scenario.name] = {f["code"] for d in days for f in d["flags"]}
        statuses[scenario.name] = {d["status"] for d in days}
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in flags["fusion_overdoing_it"]
    assert "DAILY_OVER_TARGET" in flags["fusion_overdoing_it"]
    assert "insufficient_data" in statuses["beta_blocker_lapsing"]
    assert not {"HR_OVER_LIMIT", "RESTING_HR_RISE"} & flags["beta_blocker_lapsing"]
    assert "on_track" in statuses["discectomy_steady"]


def test_same_seed_same_summaries() -> None:
    assert run_scenario(SCENARIOS[1]) == run_scenario(SCENARIOS[1])
