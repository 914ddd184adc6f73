"""Recovery trajectory: baseline, weekly points against the band, milestones, RECOVERY_BEHIND."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from importlib import resources
from typing import Any

import pytest

import analysis
from analysis import DaySteps, PlanError, recovery_behind, recovery_trajectory

SURGERY = date(2026, 3, 2)
BASELINE_STEPS = 8_000


def _days(
    fraction_of_week: Callable[[int], float], *, pre_days: int, post_days: int, base: int
) -> list[DaySteps]:
    """Synthetic valid days: ``pre_days`` at ``base`` steps before surgery, then the curve."""
    out = []
    for back in range(pre_days, 0, -1):
        # A small weekday wobble so the median is a median.
        out.append(
            DaySteps(
                date=SURGERY - timedelta(days=back),
                steps=base + (back % 3 - 1) * 200,
                aerobic_minutes=30,
                judged=True,
            )
        )
    for i in range(post_days):
        week = i // 7 + 1
        out.append(
            DaySteps(
                date=SURGERY + timedelta(days=i),
                steps=round(base * fraction_of_week(week)),
                aerobic_minutes=10 + 2 * week,
                judged=True,
            )
        )
    return out


def _expected(week: int) -> float:
    band = analysis.load_recovery().band_week(band="open", week=week)
    return band.expected_pct / 100.0


def _slow(week: int) -> float:
    band = analysis.load_recovery().band_week(band="open", week=week)
    return band.low_pct * 0.7 / 100.0


def _trajectory(days: list[DaySteps], *, post_days: int, **kw: Any) -> analysis.Trajectory:
    return recovery_trajectory(
        summaries=days,
        surgery_date=SURGERY,
        surgery_type="fusion",
        approach="open",
        today=SURGERY + timedelta(days=post_days),
        **kw,
    )


def _flags(t: analysis.Trajectory) -> dict[int, analysis.Flag]:
    out = {}
    for w in t.weeks:
        found = recovery_behind(trajectory=t, week=w.week)
        if found is not None:
            out[w.week] = found
    return out


def test_baseline_is_the_median_of_valid_preoperative_days() -> None:
    days = _days(_expected, pre_days=10, post_days=0, base=BASELINE_STEPS)
    days.append(
        DaySteps(date=SURGERY - timedelta(days=1), steps=50, aerobic_minutes=0, judged=False)
    )
    baseline = analysis.preoperative_baseline(summaries=days, surgery_date=SURGERY)
    assert baseline is not None
    assert baseline.kind == "pre_operative"
    assert baseline.steps_per_day == BASELINE_STEPS
    assert baseline.valid_days == 10


def test_fewer_than_seven_valid_preoperative_days_give_no_baseline() -> None:
    days = _days(_expected, pre_days=6, post_days=0, base=BASELINE_STEPS)
    assert analysis.preoperative_baseline(summaries=days, surgery_date=SURGERY) is None


def test_normal_recovery_with_baseline_is_within_the_band_and_not_flagged() -> None:
    days = _days(_expected, pre_days=14, post_days=56, base=BASELINE_STEPS)
    t = _trajectory(days, post_days=56)
    assert t.baseline is not None
    assert t.baseline.kind == "pre_operative"
    assert [w.week for w in t.weeks] == [*list(range(1, 9)), 9]
    assert all(w.position == "within" for w in t.weeks if w.complete)
    assert t.weeks[0].pct_of_baseline == pytest.approx(29.0, abs=0.5)
    assert not t.behind
    assert _flags(t) == {}
    steps, back = t.milestones
    assert steps.status == "met"
    assert steps.met_week is not None
    assert steps.met_week <= 6
    assert steps.met_on == SURGERY + timedelta(days=7 * steps.met_week - 1)
    assert back.status == "met"
    assert back.met_on is not None


def test_slow_recovery_with_baseline_is_flagged_once_when_two_weeks_run_below() -> None:
    days = _days(_slow, pre_days=14, post_days=56, base=BASELINE_STEPS)
    t = _trajectory(days, post_days=56)
    flags = _flags(t)
    # Below the band from week 1: flagged when week 2 completes the run, not on every later week.
    assert list(flags) == [2]
    finding = flags[2]
    assert finding.code == "RECOVERY_BEHIND"
    assert finding.severity == "info"
    assert "below the expected band's low edge" in finding.message
    assert "8,000 steps/day" in finding.message
    assert finding.evidence["weeks_below_band"] == 2
    assert t.behind
    assert t.behind_reason is not None
    assert t.milestones[1].status == "pending"


def test_slow_recovery_without_baseline_is_flagged_by_the_week_6_milestone() -> None:
    days = _days(_slow, pre_days=0, post_days=49, base=BASELINE_STEPS)
    t = _trajectory(days, post_days=49)
    assert t.baseline is None
    assert all(w.pct_of_baseline is None and w.position is None for w in t.weeks)
    flags = _flags(t)
    assert list(flags) == [6]
    assert "3,500 steps/day" in flags[6].message
    assert "Master 2021" in flags[6].message
    assert flags[6].evidence["milestone_missed"] is True
    steps, back = t.milestones
    assert steps.status == "missed"
    assert back.status == "not_applicable"


def test_normal_recovery_without_baseline_is_not_flagged() -> None:
    days = _days(_expected, pre_days=0, post_days=49, base=BASELINE_STEPS)
    t = _trajectory(days, post_days=49)
    assert _flags(t) == {}
    assert not t.behind
    assert t.milestones[0].status == "met"


def test_entered_baseline_wins_over_the_measured_one() -> None:
    days = _days(_expected, pre_days=14, post_days=14, base=BASELINE_STEPS)
    entered = analysis.Baseline(
        steps_per_day=16_000, kind="entered", source="patient's phone, last 3 months"
    )
    t = _trajectory(days, post_days=14, entered_baseline=entered)
    assert t.baseline == entered
    assert t.preoperative is not None
    assert t.preoperative.steps_per_day == BASELINE_STEPS
    assert t.weeks[0].pct_of_baseline == pytest.approx(14.5, abs=0.5)


def test_a_week_with_too_few_valid_days_has_no_median_and_today_is_left_out() -> None:
    days = _days(_expected, pre_days=14, post_days=10, base=BASELINE_STEPS)
    t = _trajectory(days, post_days=10)
    assert t.weeks[0].complete
    assert t.weeks[0].median_steps is not None
    # Week 2 has 3 days so far: not complete and too few for a median.
    assert not t.weeks[1].complete
    assert t.weeks[1].median_steps is None
    assert t.weeks[1].valid_days == 3


def test_bands_follow_surgery_approach() -> None:
    m = analysis.load_recovery()
    assert m.band_for(surgery_type="discectomy", approach="endoscopic") == "minimal_access"
    assert m.band_for(surgery_type="fusion", approach="minimally_invasive") == "minimal_access"
    assert m.band_for(surgery_type="fusion", approach="open") == "open"
    assert m.band_week(band="open", week=9).week == 8
    assert m.band_week(band="open", week=40).week == 12


def _numbers(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every number of the document with its path and the dictionary that holds it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield f"{path}.{key}", node, key
            else:
                yield from _numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, f"{path}[{i}]")


def _raw() -> dict[str, Any]:
    text = resources.files("analysis").joinpath("data/recovery.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def test_every_number_of_the_recovery_file_has_a_source() -> None:
    doc = _raw()
    assert doc["version"] == analysis.load_recovery().version
    unsourced = []
    for path, holder, key in _numbers(doc):
        if key == "week":  # a band's week number is a position, not a figure
            continue
        if key != "value" or not str(holder.get("source", "")).strip():
            unsourced.append(path)
    assert unsourced == []
    text = json.dumps(doc)
    for study in ("Sci Rep 2020;10:4939", "Bienstock", "Global Spine J 2026", "102:1873"):
        assert study in text
    # The published figures sit where the studies put them.
    open_band = {w["week"]: w for w in doc["bands"]["open"]["weeks"]}
    assert [open_band[w]["expected_pct"]["value"] for w in (1, 2, 4)] == [29, 63, 77]
    assert all("stienen_2020" in open_band[w]["expected_pct"]["source"] for w in (1, 2, 4))
    assert doc["milestones"]["steps_per_day"]["value"] == 3500
    assert doc["milestones"]["steps_odds_ratio"]["value"] == 3.75


def test_a_number_without_a_source_is_refused() -> None:
    doc = copy.deepcopy(_raw())
    doc["bands"]["open"]["weeks"][0]["low_pct"]["source"] = " "
    with pytest.raises(PlanError, match="source"):
        analysis.recovery_from_mapping(doc)
    doc = copy.deepcopy(_raw())
    doc["bands"]["open"]["weeks"][1]["low_pct"]["value"] = 90
    with pytest.raises(PlanError, match="low <= expected"):
        analysis.recovery_from_mapping(doc)


def test_weeks_without_data_neither_break_nor_make_a_run_below() -> None:
    days = _days(_slow, pre_days=14, post_days=21, base=BASELINE_STEPS)
    # Week 2 has no valid days; weeks 1 and 3 are below the band: two measured weeks running.
    days = [d for d in days if not SURGERY + timedelta(days=7) <= d.date < SURGERY + timedelta(14)]
    t = _trajectory(days, post_days=70)
    assert t.weeks[1].median_steps is None
    assert list(_flags(t)) == [3]
    # Months without data later: still behind on the last measured weeks, no new flag.
    assert t.behind
