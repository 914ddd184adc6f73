"""The progression plan as versioned data, per-patient overrides and the targets of a day."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from analysis.config import PHASES, Phase
from analysis.errors import PlanError

__all__ = [
    "MODALITIES",
    "DayTargets",
    "Plan",
    "PlanOverride",
    "PlanStage",
    "load_plan",
    "plan_from_mapping",
    "resolve_day_targets",
    "week_since_surgery",
]

#: Modalities that need a clearance (regimen: running/jumping, swimming, elliptical).
MODALITIES = ("running", "swimming", "elliptical")
DAYS_PER_WEEK = 7


@dataclass(frozen=True, kw_only=True)
class PlanStage:
    """Targets that apply from ``from_week`` (1-based week since surgery) until the next stage.

    ``phase`` is ``ramp`` while the targets build up and ``maintenance`` once they hold: the
    heart-rate limit and the over-target ratio follow it (``thresholds.json``).
    """

    from_week: int
    phase: Phase
    aerobic_min_low: float
    aerobic_min_high: float
    max_session_min: float


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A versioned progression plan.

    Attributes
    ----------
    version
        Version string stamped on every summary judged by this plan.
    ramps
        Named ramps, each a tuple of stages sorted by ``from_week``.
    assignments
        ``(surgery, approach, ramp)`` rules, first match wins; ``*`` matches anything.
    clearance_earliest_week
        Per modality, the earliest week it may be cleared (``None``: clinician decides).
    """

    version: str
    ramps: Mapping[str, tuple[PlanStage, ...]]
    assignments: tuple[tuple[str, str, str], ...]
    clearance_earliest_week: Mapping[str, int | None]

    def ramp_for(self, *, surgery_type: str, approach: str) -> str:
        """Name of the ramp assigned to a surgery type and approach."""
        for surgery, appr, ramp in self.assignments:
            if surgery in ("*", surgery_type) and appr in ("*", approach):
                return ramp
        raise PlanError(f"no ramp assigned to {surgery_type}/{approach}", field="assignments")


@dataclass(frozen=True, kw_only=True)
class PlanOverride:
    """A clinician's change to a patient's plan, effective from ``effective_from`` on.

    Fields left ``None`` keep the value in force before. Later overrides apply on top of earlier
    ones, so the list of overrides is the plan's history for that patient.

    Attributes
    ----------
    effective_from
        First patient-local day the change applies to.
    aerobic_min_low, aerobic_min_high
        Daily aerobic minutes target range, minutes.
    max_session_min
        Longest allowed single session, minutes.
    hr_limit_bpm
        Heart-rate limit, beats/min.
    running_cleared, swimming_cleared, elliptical_cleared
        Clearance decisions (``True`` cleared, ``False`` withdrawn).
    note
        The clinician's reason, kept with the history.
    """

    effective_from: date
    aerobic_min_low: float | None = None
    aerobic_min_high: float | None = None
    max_session_min: float | None = None
    hr_limit_bpm: float | None = None
    running_cleared: bool | None = None
    swimming_cleared: bool | None = None
    elliptical_cleared: bool | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class DayTargets:
    """The plan in force on one day for one patient.

    Attributes
    ----------
    week
        Week since surgery (1 = the surgery day and the six days after; days before surgery use
        week 1).
    ramp
        Name of the plan ramp.
    phase
        ``ramp`` (building up) or ``maintenance`` (after the ramp: wider upper bounds).
    aerobic_min_low, aerobic_min_high
        Daily aerobic minutes target range, minutes.
    max_session_min
        Longest allowed single session, minutes.
    hr_limit_bpm
        Heart-rate limit set by a plan override, beats/min (``None``: the patient's or default).
    cleared
        Per modality, whether it is cleared on that day.
    plan_version
        Version of the plan file.
    override_from
        ``effective_from`` of the latest override in force (``None``: plan defaults).
    before_surgery
        The day lies before the surgery date (pre-operative monitoring, for a baseline): the
        plan does not apply yet, so the day is not judged against it and raises no flag.
    """

    week: int
    ramp: str
    phase: Phase
    aerobic_min_low: float
    aerobic_min_high: float
    max_session_min: float
    hr_limit_bpm: float | None
    cleared: Mapping[str, bool]
    plan_version: str
    override_from: date | None
    before_surgery: bool = False


def week_since_surgery(*, day: date, surgery_date: date) -> int:
    """1-based week since surgery of ``day`` (week 1 starts on the surgery day; minimum 1)."""
    return max(1, (day - surgery_date).days // DAYS_PER_WEEK + 1)


@cache
def load_plan() -> Plan:
    """Load the packaged default plan ``analysis/data/plan.json`` (cached, read-only).

    Returns
    -------
    Plan
        The default progression plan.
    """
    text = resources.files("analysis").joinpath("data/plan.json").read_text("utf-8")
    return plan_from_mapping(json.loads(text))


def plan_from_mapping(raw: Mapping[str, Any]) -> Plan:
    """Build and validate a :class:`Plan` from the JSON layout of ``plan.json``.

    Raises
    ------
    PlanError
        If a field is missing, a ramp has no week-1 stage or is not increasing in week, a range
        is inverted, or an assignment names an unknown ramp.
    """
    try:
        ramps: dict[str, tuple[PlanStage, ...]] = {}
        for name, ramp in raw["ramps"].items():
            stages = tuple(
                PlanStage(
                    from_week=int(s["from_week"]),
                    phase=_phase(name, s["phase"]),
                    aerobic_min_low=float(s["aerobic_min_low"]),
                    aerobic_min_high=float(s["aerobic_min_high"]),
                    max_session_min=float(s["max_session_min"]),
                )
                for s in ramp["stages"]
            )
            _check_stages(name, stages)
            ramps[name] = stages
        assignments = tuple(
            (str(a["surgery"]), str(a["approach"]), str(a["ramp"])) for a in raw["assignments"]
        )
        earliest = {m: raw["clearance"][m]["earliest_week"] for m in MODALITIES}
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"plan file is malformed: {exc!r}", field=str(exc)) from exc
    unknown = sorted({a[2] for a in assignments} - set(ramps))
    if unknown:
        raise PlanError(f"assignments name unknown ramps {unknown}", field="assignments")
    return Plan(
        version=str(raw["version"]),
        ramps=MappingProxyType(ramps),
        assignments=assignments,
        clearance_earliest_week=MappingProxyType(earliest),
    )


def resolve_day_targets(
    *,
    plan: Plan,
    day: date,
    surgery_type: str,
    approach: str,
    surgery_date: date,
    cleared_by_date: Mapping[str, bool],
    overrides: Iterable[PlanOverride] = (),
) -> DayTargets:
    """Resolve the targets in force on ``day``.

    Parameters
    ----------
    plan
        The progression plan.
    day
        The patient-local day.
    surgery_type, approach, surgery_date
        The patient's operation.
    cleared_by_date
        Per modality, whether the patient's clearance dates clear it on ``day``.
    overrides
        The patient's plan overrides (any order); those effective on or before ``day`` apply in
        date order, later ones winning field by field.

    Returns
    -------
    DayTargets
        The day's targets.
    """
    week = week_since_surgery(day=day, surgery_date=surgery_date)
    ramp = plan.ramp_for(surgery_type=surgery_type, approach=approach)
    stage = _stage_for(plan.ramps[ramp], week)
    cleared = {}
    for modality in MODALITIES:
        earliest = plan.clearance_earliest_week[modality]
        cleared[modality] = bool(cleared_by_date.get(modality, False)) and (
            earliest is None or week >= earliest
        )
    targets = DayTargets(
        week=week,
        ramp=ramp,
        phase=stage.phase,
        aerobic_min_low=stage.aerobic_min_low,
        aerobic_min_high=stage.aerobic_min_high,
        max_session_min=stage.max_session_min,
        hr_limit_bpm=None,
        cleared=MappingProxyType(cleared),
        plan_version=plan.version,
        override_from=None,
        before_surgery=day < surgery_date,
    )
    in_force = sorted(
        (o for o in overrides if o.effective_from <= day), key=lambda o: o.effective_from
    )
    for override in in_force:
        targets = _apply(targets, override)
    if targets.aerobic_min_low > targets.aerobic_min_high:
        raise PlanError(
            f"overrides leave an inverted range on {day.isoformat()}: "
            f"{targets.aerobic_min_low} > {targets.aerobic_min_high} min",
            field="aerobic_min_low",
        )
    return targets


def _apply(targets: DayTargets, override: PlanOverride) -> DayTargets:
    """Apply the non-``None`` fields of one override."""
    changes: dict[str, Any] = {"override_from": override.effective_from}
    for name in ("aerobic_min_low", "aerobic_min_high", "max_session_min", "hr_limit_bpm"):
        value = getattr(override, name)
        if value is not None:
            changes[name] = float(value)
    cleared = dict(targets.cleared)
    for modality in MODALITIES:
        decision = getattr(override, f"{modality}_cleared")
        if decision is not None:
            cleared[modality] = bool(decision)
    changes["cleared"] = MappingProxyType(cleared)
    return replace(targets, **changes)


def _stage_for(stages: tuple[PlanStage, ...], week: int) -> PlanStage:
    """The last stage whose ``from_week`` is not after ``week``."""
    chosen = stages[0]
    for stage in stages:
        if stage.from_week <= week:
            chosen = stage
    return chosen


def _phase(ramp: str, value: object) -> Phase:
    """A validated stage phase."""
    for phase in PHASES:
        if value == phase:
            return phase
    raise PlanError(f"ramp {ramp!r} has a stage of unknown phase {value!r}", field=ramp)


def _check_stages(name: str, stages: tuple[PlanStage, ...]) -> None:
    """Validate one ramp: week 1 first, increasing weeks, ramp before maintenance, sane ranges."""
    if not stages or stages[0].from_week != 1:
        raise PlanError(f"ramp {name!r} must start at week 1", field=name)
    phases = [s.phase for s in stages]
    if phases != sorted(phases, key=PHASES.index):
        raise PlanError(f"ramp {name!r}: maintenance stages must follow the ramp", field=name)
    weeks = [s.from_week for s in stages]
    if weeks != sorted(set(weeks)):
        raise PlanError(f"ramp {name!r} weeks must increase: {weeks}", field=name)
    for s in stages:
        if not 0 <= s.aerobic_min_low <= s.aerobic_min_high or s.max_session_min <= 0:
            raise PlanError(f"ramp {name!r} week {s.from_week} has an invalid range", field=name)
