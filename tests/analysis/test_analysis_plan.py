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


def _bounds(t: DayTargets) -> tuple[str, str, float, float, float]:
    return (t.ramp, t.phase, t.aerobic_min_low, t.aerobic_min_high, t.max_session_min)


def _week(week: int) -> date:
    return date.fromordinal(SURGERY.toordinal() + 7 * (week - 1))


def test_default_ramp_documented_values() -> None:
    # Endoscopic discectomy: the minimal-access ramp, maintenance from week 5.
    assert _bounds(targets(date(2026, 5, 3))) == ("minimal_access", "ramp", 10, 15, 15)
    assert _bounds(targets(date(2026, 5, 9))) == ("minimal_access", "ramp", 15, 20, 20)
    assert _bounds(targets(_week(3))) == ("minimal_access", "ramp", 20, 30, 30)
    assert _bounds(targets(_week(4))) == ("minimal_access", "ramp", 20, 30, 30)
    late = targets(date(2026, 7, 1))
    assert _bounds(late) == ("minimal_access", "maintenance", 20, 60, 60)
    assert _bounds(targets(_week(5))) == _bounds(late)
    assert late.plan_version == load_plan().version == "plan-2026.2"


@pytest.mark.parametrize(
    ("surgery", "approach", "ramp", "last_ramp_week"),
    [
        ("discectomy", "open", "standard", 5),
        ("laminectomy", "minimally_invasive", "minimal_access", 4),
        ("other", "endoscopic", "standard", 5),
        ("fusion", "minimally_invasive", "fusion_slow", 8),
        ("other", "open", "fusion_slow", 8),
    ],
)
def test_the_ramp_ends_in_maintenance(
    surgery: str, approach: str, ramp: str, last_ramp_week: int
) -> None:
    last = targets(_week(last_ramp_week), surgery=surgery, approach=approach)
    first = targets(_week(last_ramp_week + 1), surgery=surgery, approach=approach)
    assert _bounds(last) == (ramp, "ramp", 20, 30, 30)
    # The regimen's 20 minutes stay the floor; the ceiling lifts to 60 (ACSM, Master 2021).
    assert _bounds(first) == (ramp, "maintenance", 20, 60, 60)
    assert targets(_week(52), surgery=surgery, approach=approach).phase == "maintenance"


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
            date(2026, 6, 1), overrides=[PlanOverride(effective_from=SURGERY, aerobic_min_low=70)]
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
    # Phase-aware values hold one {value, source} per phase.
    leaves = [p for v in leaves for p in ([v["ramp"], v["maintenance"]] if "ramp" in v else [v])]
    assert len(leaves) > 30
    assert all(isinstance(v, dict) and v["source"].strip() for v in leaves)
    assert load_thresholds().version == raw["version"]


def test_threshold_without_source_is_rejected() -> None:
    raw = _raw("thresholds.json")
    raw["wear"]["min_wear_minutes_to_judge"] = {"value": 600}
    with pytest.raises(PlanError):
        thresholds_from_mapping(raw)


def test_phase_threshold_needs_both_phases() -> None:
    raw = _raw("thresholds.json")
    del raw["intensity"]["hr_limit_reserve_fraction"]["maintenance"]
    with pytest.raises(PlanError):
        thresholds_from_mapping(raw)
    raw = _raw("thresholds.json")
    raw["flags"]["DAILY_OVER_TARGET"]["over_ratio"] = {"value": 1.5, "source": "one value"}
    with pytest.raises(PlanError):
        thresholds_from_mapping(raw)


def test_phase_aware_thresholds() -> None:
    th = load_thresholds()
    assert th.version == "thresholds-2026.2"
    assert th.intensity.hr_limit_reserve_fraction.of("ramp") == 0.6
    assert th.intensity.hr_limit_reserve_fraction.of("maintenance") == 0.8
    assert th.intensity.hr_limit_max_fraction.of("ramp") == 0.77
    assert th.sessions.running_min_sustained_min == 5
    assert th.flags.high_impact_repeat_days == 7


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
        lambda raw: raw["ramps"]["standard"]["stages"][0].update(phase="rest"),
        lambda raw: raw["ramps"]["standard"]["stages"][0].update(phase="maintenance"),
        lambda raw: raw["ramps"]["standard"]["stages"][2].pop("phase"),
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
