"""The stored and served shape of a day summary: one serialiser, one decoder, the list's brief.

The typed shape is :class:`analysis.DaySummary`; :func:`summary_document` is the only place that
turns it into the document stored in ``daily_summaries.summary`` and served by ``GET /days``, and
:func:`summary_from_document` the only place that reads one back (documents of the previous
analysis version included). :class:`DayBrief` is the part of a summary the care team's list and
the recovery trajectory read. The pydantic models below describe the document (and the
placeholder of a day without one) in the OpenAPI; a session's and the heart rate's take their
fields from the dataclasses (:func:`_fields_of`), so that a field added there is documented too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal, get_args, get_type_hints

from pydantic import BaseModel, ConfigDict

import analysis
from analysis.summary import UNJUDGED
from service.checkins import CheckinRecord

__all__ = [
    "DayBrief",
    "DayPlaceholderOut",
    "ServedDay",
    "StoredDayOut",
    "UnsummarisedStatus",
    "summary_document",
    "summary_from_document",
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


def summary_from_document(document: Mapping[str, Any]) -> analysis.DaySummary:
    """The :class:`analysis.DaySummary` of a stored document (:func:`summary_document` output).

    ``summary_from_document(summary_document(s)) == s``. A document written before
    ``analysis-2.1.0`` (recomputed by the worker's sweep, readable until then) is read as it
    was written: it stored every time twice (``day_start_s`` and the sessions' ``start_s`` and
    ``end_s`` beside the ISO-8601 times read here), the lowest minute mean only as the API's
    ``heart_rate.min`` (read as ``min_bpm``), and, when written before the like-with-like resting
    comparison, no ``resting_night`` (read as ``None``: of unknown kind); its
    ``analysis_version`` is kept.

    Raises
    ------
    analysis.InputError
        When ``document`` is not a stored summary (``analysis-2.0.0`` or later).
    """
    heart_rate = document.get("heart_rate")
    if isinstance(heart_rate, Mapping) and "min_bpm" not in heart_rate:
        upgraded = {"min_bpm": heart_rate.get("min"), "resting_night": None, **heart_rate}
        document = {**document, "heart_rate": upgraded}
    return analysis.summary_from_dict(document)


_STATUSES: tuple[analysis.DayStatus, ...] = get_args(analysis.DayStatus)


@dataclass(frozen=True, kw_only=True)
class DayBrief:
    """The parts of a day summary the care team's list and the recovery trajectory read.

    Each field is the :class:`analysis.DaySummary` field (or property) of the same name, or of
    its ``targets`` for ``aerobic_min_low`` … ``before_surgery``; ``flag_codes`` are its flags'
    codes. :meth:`of` takes them from a summary; :func:`~service.summaries.summary_briefs` reads
    the same parts from the stored documents without decoding them whole.
    """

    date: date
    status: analysis.DayStatus
    steps: int
    aerobic_minutes: int
    longest_session_min: int
    aerobic_min_low: float
    aerobic_min_high: float
    max_session_min: float
    before_surgery: bool
    flag_codes: frozenset[str]

    @property
    def judged(self) -> bool:
        """As :attr:`analysis.DaySummary.judged`: complete, with enough wear."""
        return self.status not in UNJUDGED

    @classmethod
    def of(cls, summary: analysis.DaySummary) -> DayBrief:
        """The brief of ``summary``."""
        t = summary.targets
        return cls(
            date=summary.date,
            status=summary.status,
            steps=summary.steps,
            aerobic_minutes=summary.aerobic_minutes,
            longest_session_min=summary.longest_session_min,
            aerobic_min_low=t.aerobic_min_low,
            aerobic_min_high=t.aerobic_min_high,
            max_session_min=t.max_session_min,
            before_surgery=t.before_surgery,
            flag_codes=frozenset(f.code for f in summary.flags),
        )

    @classmethod
    def from_parts(cls, parts: Mapping[str, Any]) -> DayBrief:
        """The brief of the parts :func:`~service.summaries.summary_briefs` selects.

        Raises
        ------
        analysis.InputError
            When a part is missing or of the wrong kind.
        """
        try:
            status = next(s for s in _STATUSES if s == parts["status"])
            targets = parts["targets"]
            return cls(
                date=date.fromisoformat(parts["day"]),
                status=status,
                steps=int(parts["steps"]),
                aerobic_minutes=int(parts["aerobic_minutes"]),
                longest_session_min=max((int(d) for d in parts["durations"]), default=0),
                aerobic_min_low=float(targets["aerobic_min_low"]),
                aerobic_min_high=float(targets["aerobic_min_high"]),
                max_session_min=float(targets["max_session_min"]),
                before_surgery=bool(targets.get("before_surgery", False)),
                flag_codes=frozenset(str(c) for c in parts["codes"]),
            )
        except (KeyError, TypeError, ValueError, StopIteration) as exc:
            raise analysis.InputError(
                f"not the parts of a stored day summary: {exc!r}", field="document"
            ) from exc


class _Out(BaseModel):
    # Documentation of stored documents: a field added later must not break old clients' docs.
    model_config = ConfigDict(extra="allow")


def _fields_of(
    source: type[Any],
    *,
    first: Mapping[str, Any] | None = None,
    without: frozenset[str] = frozenset(),
    last: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of a document model, in document order: ``first``, the fields of the dataclass
    ``source`` (as it annotates them, but ``without``), then ``last``."""
    hints = get_type_hints(source)
    out = dict(first or {})
    out.update((f.name, hints[f.name]) for f in fields(source) if f.name not in without)
    out.update(last or {})
    return out


class SessionOut(_Out):
    """A walking, biking or running session (times ISO-8601 UTC)."""

    # analysis.Session's fields, its epoch seconds written as ISO-8601 times (_session_dict).
    __annotations__ = _fields_of(
        analysis.Session, first={"start": str, "end": str}, without=frozenset({"start_s", "end_s"})
    )


class HeartRateOut(_Out):
    """The day's heart rate, beats/min (``analysis.HeartRateSummary``; ``min``/``avg``/``max``
    repeat ``min_bpm``/``mean_bpm``/``max_bpm`` under the names of the first release)."""

    # analysis.HeartRateSummary's fields and the copies summary_document adds.
    __annotations__ = _fields_of(
        analysis.HeartRateSummary,
        last={"min": float | None, "avg": float | None, "max": float | None},
    )


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
