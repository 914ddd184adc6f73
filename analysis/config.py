"""Tunable thresholds, loaded read-only from the versioned ``data/thresholds.json``.

Every value in the file carries its ``source`` (clinical rule, paper or "tunable default"); the
loader keeps the values, checks their types and exposes them as frozen dataclasses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast

from analysis.errors import PlanError

__all__ = [
    "PHASES",
    "FlagRules",
    "IntensityThresholds",
    "Phase",
    "PhaseValues",
    "SessionThresholds",
    "Severity",
    "Thresholds",
    "WearThresholds",
    "load_thresholds",
    "thresholds_from_mapping",
]

Severity = Literal["info", "warning", "urgent"]
_SEVERITIES = ("info", "warning", "urgent")
#: Recovery phase of a plan stage: the ramp builds up, maintenance holds a wider range.
Phase = Literal["ramp", "maintenance"]
PHASES: tuple[Phase, ...] = ("ramp", "maintenance")
_T = TypeVar("_T")


@dataclass(frozen=True)
class PhaseValues:
    """A threshold that differs between the ramp and the maintenance phase."""

    ramp: float
    maintenance: float

    def of(self, phase: Phase) -> float:
        """The value in force in ``phase``."""
        return self.ramp if phase == "ramp" else self.maintenance


@dataclass(frozen=True)
class WearThresholds:
    """Wear rules: non-wear gap (min), wear needed to judge a day (min), a 'no wear' day (min)."""

    non_wear_min_gap_min: int
    min_wear_minutes_to_judge: int
    no_wear_day_max_minutes: int


@dataclass(frozen=True)
class SessionThresholds:
    """Bout rules: cadence (steps/min), crank cadence (rev/min), durations and gaps (min)."""

    walk_min_cadence_spm: float
    bike_min_rpm: float
    min_session_min: int
    max_gap_min: int
    running_min_cadence_spm: float
    running_min_sustained_min: int
    running_max_gap_min: int
    running_session_share: float
    neighbour_context_min: int


@dataclass(frozen=True)
class IntensityThresholds:
    """Heart-rate model: Tanaka HRmax, resting-HR estimate, reserve-zone fractions and limit."""

    tanaka_intercept_bpm: float
    tanaka_slope_bpm_per_year: float
    resting_hr_percentile: float
    resting_hr_min_minutes: int
    zone_moderate_reserve_fraction: float
    zone_vigorous_reserve_fraction: float
    hr_limit_reserve_fraction: PhaseValues
    hr_limit_max_fraction: PhaseValues
    resting_recent_days: int
    resting_recent_min_days: int
    resting_night_window_min: int
    resting_night_min_minutes: int


@dataclass(frozen=True)
class FlagRules:
    """Severity and parameters of every flag (see ``data/thresholds.json`` for the sources)."""

    severity: Mapping[str, Severity]
    hr_min_consecutive_min: int
    hr_running_recovery_min: int
    session_over_ratio: float
    daily_over_ratio: PhaseValues
    daily_over_repeat_days: int
    high_impact_repeat_days: int
    ramp_growth_ratio: float
    ramp_min_increase_min: float
    ramp_min_judged_days: int
    below_streak_min_days: int
    no_data_min_days: int
    rhr_rise_bpm: float
    rhr_consecutive_days: int
    rhr_baseline_days: int
    rhr_min_baseline_days: int


@dataclass(frozen=True)
class Thresholds:
    """All tunable thresholds, with the version string of the file they came from."""

    version: str
    wear: WearThresholds
    sessions: SessionThresholds
    intensity: IntensityThresholds
    flags: FlagRules


@cache
def load_thresholds() -> Thresholds:
    """Load the packaged default thresholds (cached; the result is immutable).

    Returns
    -------
    Thresholds
        The defaults from ``analysis/data/thresholds.json``.
    """
    text = resources.files("analysis").joinpath("data/thresholds.json").read_text("utf-8")
    return thresholds_from_mapping(json.loads(text))


def thresholds_from_mapping(raw: dict[str, Any]) -> Thresholds:
    """Build :class:`Thresholds` from the parsed JSON layout of ``thresholds.json``.

    Parameters
    ----------
    raw
        Mapping with ``version`` and the ``wear``, ``sessions``, ``intensity`` and ``flags``
        sections; each value is ``{"value": ..., "source": "..."}``.

    Returns
    -------
    Thresholds
        The validated thresholds.

    Raises
    ------
    PlanError
        If a section or value is missing, lacks a source or has the wrong type.
    """
    try:
        flags = raw["flags"]
        rules = FlagRules(
            severity=MappingProxyType(
                {code: _severity(code, spec) for code, spec in flags.items()}
            ),
            hr_min_consecutive_min=_value(flags["HR_OVER_LIMIT"], "min_consecutive_min", int),
            hr_running_recovery_min=_value(flags["HR_OVER_LIMIT"], "running_recovery_min", int),
            session_over_ratio=_value(flags["SESSION_TOO_LONG"], "over_ratio", float),
            daily_over_ratio=_phase_values(flags["DAILY_OVER_TARGET"], "over_ratio"),
            daily_over_repeat_days=_value(flags["DAILY_OVER_TARGET"], "repeat_after_days", int),
            high_impact_repeat_days=_value(
                flags["HIGH_IMPACT_BEFORE_CLEARANCE"], "repeat_after_days", int
            ),
            ramp_growth_ratio=_value(flags["RAMP_TOO_FAST"], "growth_ratio", float),
            ramp_min_increase_min=_value(flags["RAMP_TOO_FAST"], "min_increase_min", float),
            ramp_min_judged_days=_value(flags["RAMP_TOO_FAST"], "min_judged_days", int),
            below_streak_min_days=_value(flags["BELOW_TARGET_STREAK"], "min_days", int),
            no_data_min_days=_value(flags["NO_DATA"], "min_days", int),
            rhr_rise_bpm=_value(flags["RESTING_HR_RISE"], "rise_bpm", float),
            rhr_consecutive_days=_value(flags["RESTING_HR_RISE"], "consecutive_days", int),
            rhr_baseline_days=_value(flags["RESTING_HR_RISE"], "baseline_days", int),
            rhr_min_baseline_days=_value(flags["RESTING_HR_RISE"], "min_baseline_days", int),
        )
        return Thresholds(
            version=str(raw["version"]),
            wear=_section(WearThresholds, raw["wear"]),
            sessions=_section(SessionThresholds, raw["sessions"]),
            intensity=_section(IntensityThresholds, raw["intensity"]),
            flags=rules,
        )
    except (KeyError, TypeError) as exc:
        raise PlanError(f"thresholds file is missing {exc}", field=str(exc)) from exc


def _section(cls: type[_T], raw: dict[str, Any]) -> _T:
    """Build a threshold section dataclass, converting each ``value`` to the field's type."""
    kinds = {"int": int, "float": float}
    values = {
        f.name: _phase_values(raw, f.name)
        if str(f.type) == "PhaseValues"
        else _value(raw, f.name, kinds[str(f.type)])
        for f in fields(cast(Any, cls))
    }
    return cls(**values)


def _phase_values(section: dict[str, Any], name: str) -> PhaseValues:
    """``section[name]`` as ``{"ramp": {value, source}, "maintenance": {value, source}}``."""
    entry = section[name]
    if not isinstance(entry, dict) or set(entry) != set(PHASES):
        raise PlanError(f"threshold {name!r} needs a value per phase {PHASES}", field=name)
    return PhaseValues(
        ramp=_value(entry, "ramp", float), maintenance=_value(entry, "maintenance", float)
    )


def _value(section: dict[str, Any], name: str, kind: type[int] | type[float]) -> Any:
    """Return ``section[name]["value"]`` as ``kind``, insisting on a documented source."""
    entry = section[name]
    if not isinstance(entry, dict) or not str(entry.get("source", "")).strip():
        raise PlanError(f"threshold {name!r} needs a value and a source", field=name)
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"threshold {name!r} must be a number, got {value!r}", field=name)
    if kind is int and value != int(value):
        raise PlanError(f"threshold {name!r} must be a whole number, got {value!r}", field=name)
    return kind(value)


def _severity(code: str, spec: dict[str, Any]) -> Severity:
    """Validated severity of flag ``code``."""
    value = spec["severity"]["value"]
    if value not in _SEVERITIES:
        raise PlanError(f"flag {code} has unknown severity {value!r}", field=code)
    return cast(Severity, value)
