"""Expected recovery bands as versioned data, loaded read-only from ``data/recovery.json``.

Every number in the file is ``{"value": ..., "source": "..."}``: a published cohort (the
``sources`` section names them) or "tunable default". The loader insists on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from analysis.errors import PlanError

__all__ = ["BandWeek", "RecoveryModel", "load_recovery", "recovery_from_mapping"]


@dataclass(frozen=True, kw_only=True)
class BandWeek:
    """The expected daily steps in one week since surgery, percent of the pre-operative baseline.

    Attributes
    ----------
    week
        Week since surgery (1 starts on the surgery day); the band holds until the next listed week.
    low_pct, expected_pct, high_pct
        The band's low edge, the published (or interpolated) expectation and the high edge.
    """

    week: int
    low_pct: float
    expected_pct: float
    high_pct: float


@dataclass(frozen=True, kw_only=True)
class RecoveryModel:
    """The recovery bands and the milestone and judgement parameters (see ``recovery.json``).

    Attributes
    ----------
    version
        Version string of the data file, recorded with every trajectory.
    bands
        Named bands, each a tuple of :class:`BandWeek` sorted by week.
    return_expected_day
        Per band, the day since surgery by which a typical patient regains ``return_pct``.
    assignments
        ``(surgery, approach, band)`` rules, first match wins; ``*`` matches anything.
    baseline_min_valid_days, baseline_window_days
        Valid pre-operative days a baseline needs, and how far before surgery they may lie (days).
    week_min_valid_days
        Valid days a week needs for its median.
    behind_consecutive_weeks
        Complete weeks below the band in a row that make recovery "behind".
    milestone_steps_per_day, milestone_steps_by_week, milestone_steps_odds_ratio
        The absolute milestone (steps/day by a week since surgery) and its published odds ratio.
    return_pct, return_consecutive_days
        The return milestone: percent of baseline on so many valid days in a row.
    """

    version: str
    bands: Mapping[str, tuple[BandWeek, ...]]
    return_expected_day: Mapping[str, int]
    assignments: tuple[tuple[str, str, str], ...]
    baseline_min_valid_days: int
    baseline_window_days: int
    week_min_valid_days: int
    behind_consecutive_weeks: int
    milestone_steps_per_day: float
    milestone_steps_by_week: int
    milestone_steps_odds_ratio: float
    return_pct: float
    return_consecutive_days: int

    def band_for(self, *, surgery_type: str, approach: str) -> str:
        """Name of the band assigned to a surgery type and approach."""
        for surgery, appr, band in self.assignments:
            if surgery in ("*", surgery_type) and appr in ("*", approach):
                return band
        raise PlanError(f"no recovery band assigned to {surgery_type}/{approach}", field="band")

    def band_week(self, *, band: str, week: int) -> BandWeek:
        """The band in force in ``week`` (the last listed week at or before it; week 1 before)."""
        weeks = self.bands[band]
        chosen = weeks[0]
        for entry in weeks:
            if entry.week <= week:
                chosen = entry
        return chosen


@cache
def load_recovery() -> RecoveryModel:
    """Load the packaged recovery bands ``analysis/data/recovery.json`` (cached, read-only)."""
    text = resources.files("analysis").joinpath("data/recovery.json").read_text("utf-8")
    return recovery_from_mapping(json.loads(text))


def recovery_from_mapping(raw: dict[str, Any]) -> RecoveryModel:
    """Build a :class:`RecoveryModel` from the parsed layout of ``recovery.json``.

    Raises
    ------
    PlanError
        If a section or value is missing, lacks a source, or the bands are inconsistent.
    """
    try:
        milestones, weeks, baseline = raw["milestones"], raw["weeks"], raw["baseline"]
        bands: dict[str, tuple[BandWeek, ...]] = {}
        expected_day: dict[str, int] = {}
        for name, spec in raw["bands"].items():
            entries = tuple(
                BandWeek(
                    week=int(w["week"]),
                    low_pct=_value(w, "low_pct"),
                    expected_pct=_value(w, "expected_pct"),
                    high_pct=_value(w, "high_pct"),
                )
                for w in spec["weeks"]
            )
            _check_band(name, entries)
            bands[name] = entries
            expected_day[name] = int(_value(milestones, str(spec["return_expected_day"])))
        assignments = tuple(
            (str(a["surgery"]), str(a["approach"]), str(a["band"])) for a in raw["assignments"]
        )
        unknown = sorted({band for _, _, band in assignments} - set(bands))
        if unknown:
            raise PlanError(f"assignments name unknown bands {unknown}", field="assignments")
        return RecoveryModel(
            version=str(raw["version"]),
            bands=MappingProxyType(bands),
            return_expected_day=MappingProxyType(expected_day),
            assignments=assignments,
            baseline_min_valid_days=int(_value(baseline, "min_valid_days")),
            baseline_window_days=int(_value(baseline, "window_days")),
            week_min_valid_days=int(_value(weeks, "min_valid_days")),
            behind_consecutive_weeks=int(_value(weeks, "behind_consecutive_weeks")),
            milestone_steps_per_day=_value(milestones, "steps_per_day"),
            milestone_steps_by_week=int(_value(milestones, "steps_by_week")),
            milestone_steps_odds_ratio=_value(milestones, "steps_odds_ratio"),
            return_pct=_value(milestones, "return_pct"),
            return_consecutive_days=int(_value(milestones, "return_consecutive_days")),
        )
    except (KeyError, TypeError) as exc:
        raise PlanError(f"recovery file is missing {exc}", field=str(exc)) from exc


def _check_band(name: str, entries: tuple[BandWeek, ...]) -> None:
    if not entries or entries[0].week != 1:
        raise PlanError(f"band {name!r} must start at week 1", field=name)
    if [e.week for e in entries] != sorted({e.week for e in entries}):
        raise PlanError(f"band {name!r} weeks must increase", field=name)
    for e in entries:
        if not 0 <= e.low_pct <= e.expected_pct <= e.high_pct:
            raise PlanError(
                f"band {name!r} week {e.week} needs 0 <= low <= expected <= high", field=name
            )


def _value(section: dict[str, Any], name: str) -> float:
    """``section[name]["value"]`` as a float, insisting on a documented source."""
    entry = section[name]
    if not isinstance(entry, dict) or not str(entry.get("source", "")).strip():
        raise PlanError(f"recovery value {name!r} needs a value and a source", field=name)
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"recovery value {name!r} must be a number, got {value!r}", field=name)
    return float(value)
