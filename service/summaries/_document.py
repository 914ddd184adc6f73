"""The stored and served shape of a day summary: one serialiser and its response models.

The typed shape is :class:`analysis.DaySummary`; :func:`summary_document` is the only place that
turns it into the document stored in ``daily_summaries.summary`` and served by ``GET /days``, and
:func:`analysis.summary_from_dict` the only place that reads it back. The pydantic models below
describe that document (and the placeholder of a day without one) in the OpenAPI.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

import analysis
from service.checkins import CheckinRecord

__all__ = [
    "DayPlaceholderOut",
    "ServedDay",
    "StoredDayOut",
    "UnsummarisedStatus",
    "summary_document",
]


def summary_document(summary: analysis.DaySummary) -> dict[str, Any]:
    """The JSON document of ``summary`` as stored and served.

    :meth:`analysis.DaySummary.to_dict` plus the heart-rate range under the names the API has
    served since its first release: ``min`` (lowest minute mean), ``avg`` and ``max`` (highest
    sample), beats/min, copies of ``min_bpm``, ``mean_bpm`` and ``max_bpm``.
    """
    document = summary.to_dict()
    hr = summary.heart_rate
    heart_rate = dict(document["heart_rate"])  # type: ignore[call-overload]
    heart_rate.update(min=hr.min_bpm, avg=hr.mean_bpm, max=hr.max_bpm)
    document["heart_rate"] = heart_rate
    return document


class _Out(BaseModel):
    # Documentation of stored documents: a field added later must not break old clients' docs.
    model_config = ConfigDict(extra="allow")


class SessionOut(_Out):
    """A walking, biking or running session (times ISO-8601 UTC)."""

    start: str
    end: str
    kind: Literal["walking", "biking", "running"]
    duration_min: int
    active_minutes: int
    running_minutes: int
    steps: int
    cadence_mean_per_min: float
    cadence_max_per_min: float
    hr_mean_bpm: float | None
    hr_max_bpm: float | None
    minutes_above_limit: int | None


class HeartRateOut(_Out):
    """The day's heart rate, beats/min (``analysis.HeartRateSummary``; ``min``/``avg``/``max``
    repeat ``min_bpm``/``mean_bpm``/``max_bpm`` under the names of the first release)."""

    rules_active: bool
    rules_checked: bool
    not_checked_reason: str | None
    resting_bpm: float | None
    resting_source: Literal["override", "estimated", "recent_days", "none"]
    resting_night: bool | None
    resting_baseline_bpm: float | None
    resting_elevated: bool
    min_bpm: float | None
    mean_bpm: float | None
    max_bpm: float | None
    hr_max_bpm: float
    limit_bpm: float | None
    limit_basis: Literal["override", "heart_rate_reserve", "hr_max"] | None
    minutes_light: int | None
    minutes_moderate: int | None
    minutes_vigorous: int | None
    minutes_above_limit: int | None
    min: float | None
    avg: float | None
    max: float | None


class TargetsOut(_Out):
    """The plan in force on the day."""

    week: int
    ramp: str
    phase: Literal["ramp", "maintenance"]
    aerobic_min_low: float
    aerobic_min_high: float
    max_session_min: float
    hr_limit_bpm: float | None
    cleared: dict[str, bool]
    plan_version: str
    override_from: date | None
    before_surgery: bool = False


class FlagOut(_Out):
    """A finding: stable code, severity, plain-language message, what was measured."""

    code: str
    severity: Literal["info", "warning", "urgent"]
    message: str
    evidence: dict[str, str | int | float | bool | None]


class StoredDayOut(_Out):
    """A day with a stored summary (``analysis.DaySummary``) and the day's check-ins."""

    date: date
    day_start: str
    n_minutes: int
    wear_minutes: int
    steps: int
    active_minutes: int
    aerobic_minutes: int
    aerobic_minutes_by_kind: dict[str, int]
    sessions: list[SessionOut]
    heart_rate: HeartRateOut
    targets: TargetsOut
    status: Literal[
        "in_progress", "insufficient_data", "pre_operative", "below", "on_track", "above"
    ]
    judged: bool
    flags: list[FlagOut]
    analysis_version: str
    thresholds_version: str
    checkins: list[CheckinRecord]


#: A date without a stored summary: ``pending`` (from monitoring start, ended, not judged yet),
#: ``in_progress`` (the patient's today, not summarised yet), ``not_monitored`` (before the
#: patient's first day with a device or data).
UnsummarisedStatus = Literal["pending", "in_progress", "not_monitored"]


class DayPlaceholderOut(BaseModel):
    """A date without a stored summary: its status and check-ins."""

    model_config = ConfigDict(extra="forbid")

    date: date
    status: UnsummarisedStatus
    checkins: list[CheckinRecord]


#: One item of ``GET /days``.
ServedDay = StoredDayOut | DayPlaceholderOut
