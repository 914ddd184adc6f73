"""The versioned plan and thresholds files, target resolution and the override history."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from analysis import (
    DayTargets,
    PlanError,
    PlanOverride,
    analyse_day,
    load_plan,
    load_thresholds,
    plan_from_mapping,
    resolve_day_targets,
    thresholds_from_mapping,
    week_since_surgery,
)
from tests.analysis.analysis_helpers import patient, walking_grid

SURGERY = date(2026, 5, 1)
NOT_CLEARED = {"running": False, "swimming": False, "elliptical": False}


def targets(
    day: date, surgery: str = "discectomy", approach: str = "endoscopic", **kw: Any
) -> DayTargets:
    return resolve_day_targets(
        plan=load_plan(),
        day=day,
        surgery_type=surgery,
        approach=approach,
        surgery_date=SURGERY,
        cleared_by_date=kw.pop("cleared", NOT_CLEARED),
        **kw,
    )


def test_week_since_surgery() -> None:
    assert week_since_surgery(day=SURGERY, surgery_date=SURGERY) == 1
    assert week_since_surgery(day=date(2026, 5, 7), surgery_date=SURGERY) == 1
    assert week_since_surgery(day=date(2026, 5, 8), surgery_date=SURGERY) == 2
    assert week_since_surgery(day=date(2026, 4, 20), surgery_date=SURGERY) == 1


def test_default_ramp_documented_values() -> None:
    week1 = targets(date(2026, 5, 3))
    assert (week1.aerobic_min_low, week1.aerobic_min_high, week1.max_session_min) == (10, 15, 15)
    week2 = targets(date(2026, 5, 9))
    assert (week2.aerobic_min_low, week2.aerobic_min_high, week2.max_session_min) == (15, 20, 20)
    late = targets(date(2026, 7, 1))
    assert (late.aerobic_min_low, late.aerobic_min_high, late.max_session_min) == (20, 30, 30)
    assert late.plan_version == load_plan().version


def test_open_fusion_ramps_slower_than_endoscopic_discectomy() -> None:
    for week in range(1, 12):
        day = date.fromordinal(SURGERY.toordinal() + 7 * (week - 1))
        fusion = targets(day, surgery="fusion", approach="open")
        disc = targets(day)
        assert fusion.aerobic_min_high <= disc.aerobic_min_high
        assert fusion.max_session_min <= disc.max_session_min
    assert targets(date(2026, 5, 10), surgery="fusion", approach="open").max_session_min == 15
    assert targets(date(2026, 5, 10)).max_session_min == 20


def test_swimming_needs_clearance_and_the_earliest_week() -> None:
    cleared = {"running": True, "swimming": True, "elliptical": True}
    early = targets(date(2026, 5, 20), cleared=cleared)  # week 3
    assert early.cleared == {"running": True, "swimming": False, "elliptical": True}
    later = targets(date(2026, 6, 1), cleared=cleared)  # week 5
    assert later.cleared["swimming"]
    assert not targets(date(2026, 6, 1)).cleared["swimming"]


def test_override_takes_effect_mid_week_and_keeps_history() -> None:
    history = (
        PlanOverride(effective_from=date(2026, 5, 13), max_session_min=10, note="pain"),
        PlanOverride(effective_from=date(2026, 5, 20), aerobic_min_high=40),
    )
    # Week 2 runs 2026-05-08 .. 05-14; the first override starts on its Wednesday.
    tue = targets(date(2026, 5, 12), overrides=history)
    wed = targets(date(2026, 5, 13), overrides=history)
    assert tue.max_session_min == 20
    assert tue.override_from is None
    assert wed.max_session_min == 10
    assert wed.override_from == date(2026, 5, 13)
    # The later override adds to the earlier one; past days keep the plan in force then.
    later = targets(date(2026, 5, 21), overrides=reversed(history))
    assert later.max_session_min == 10
    assert later.aerobic_min_high == 40
    assert targets(date(2026, 5, 12), overrides=history) == tue


def test_override_can_clear_running_and_set_a_limit() -> None:
    override = PlanOverride(effective_from=date(2026, 6, 1), running_cleared=True, hr_limit_bpm=110)
    assert not targets(date(2026, 5, 31), overrides=[override]).cleared["running"]
    day = targets(date(2026, 6, 1), overrides=[override])
    assert day.cleared["running"]
    assert day.hr_limit_bpm == 110


def test_inverted_override_range_is_rejected() -> None:
    with pytest.raises(PlanError):
        targets(
            date(2026, 6, 1), overrides=[PlanOverride(effective_from=SURGERY, aerobic_min_low=50)]
        )


def test_summary_judged_by_the_plan_in_force_that_day() -> None:
    grid = walking_grid(active=[(600, 618)])
    override = PlanOverride(
        effective_from=date(2026, 5, 13), aerobic_min_low=25, aerobic_min_high=35
    )
    who = patient(plan_overrides=(override,))
    assert analyse_day(grid=grid, day=date(2026, 5, 12), patient=who).status == "on_track"
    assert analyse_day(grid=grid, day=date(2026, 5, 13), patient=who).status == "below"


def _raw(name: str) -> dict[str, Any]:
    text = resources.files("analysis").joinpath(f"data/{name}").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def test_every_threshold_names_its_source() -> None:
    raw = _raw("thresholds.json")
    leaves = []
    for section in ("wear", "sessions", "intensity"):
        leaves.extend(raw[section].values())
    for spec in raw["flags"].values():
        leaves.extend(spec.values())
    assert len(leaves) > 25
    assert all(isinstance(v, dict) and v["source"].strip() for v in leaves)
    assert load_thresholds().version == raw["version"]


def test_threshold_without_source_is_rejected() -> None:
    raw = _raw("thresholds.json")
    raw["wear"]["min_wear_minutes_to_judge"] = {"value": 600}
    with pytest.raises(PlanError):
        thresholds_from_mapping(raw)


def test_threshold_of_wrong_type_is_rejected() -> None:
    raw = _raw("thresholds.json")
    raw["sessions"]["min_session_min"]["value"] = 4.5
    with pytest.raises(PlanError):
        thresholds_from_mapping(raw)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw["ramps"]["standard"]["stages"].pop(0),
        lambda raw: raw["assignments"].append({"surgery": "x", "approach": "*", "ramp": "nope"}),
        lambda raw: raw["ramps"]["standard"]["stages"][1].update(aerobic_min_low=99),
        lambda raw: raw.pop("clearance"),
    ],
)
def test_malformed_plan_is_rejected(mutate: Any) -> None:
    raw = _raw("plan.json")
    mutate(raw)
    with pytest.raises(PlanError):
        plan_from_mapping(raw)


def test_loaded_plan_is_read_only() -> None:
    plan = load_plan()
    with pytest.raises(TypeError):
        plan.ramps["standard"] = ()  # type: ignore[index]
    assert plan_from_mapping(_raw("plan.json")) == plan
