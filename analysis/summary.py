"""The daily summary: what a day was, how it compares with the plan, and its flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args

from analysis.config import PHASES
from analysis.errors import InputError
from analysis.flags import Flag, iso_utc
from analysis.intensity import LimitBasis, RestingSource
from analysis.plan import DayTargets
from analysis.sessions import Session

__all__ = [
    "ANALYSIS_VERSION",
    "DayStatus",
    "DaySummary",
    "HeartRateSummary",
    "RestingSource",
    "summary_from_dict",
]

_C = TypeVar("_C", bound=str)

#: Version of the analysis code; stamped on every summary (derived data is recomputable).
# 2.1.0: the heart rate's lowest minute mean (``min_bpm``); times stored once, as ISO-8601 UTC.
# 2.2.0: activities declared by a device (a ride, a walk) inform session detection
# (:mod:`analysis.activities`); a session's mean cadence is over its minutes with cadence.
ANALYSIS_VERSION = "analysis-2.2.0"

#: ``in_progress``: the day has not ended (only rules that can only grow during a day ran);
#: ``insufficient_data``: too little wear to judge; ``pre_operative``: a valid day before surgery
#: (the plan does not apply yet); else the aerobic minutes against the plan.
DayStatus = Literal[
    "in_progress", "insufficient_data", "pre_operative", "below", "on_track", "above"
]
#: Statuses of days that are not valid (not complete, or too little wear).
UNJUDGED: frozenset[str] = frozenset({"in_progress", "insufficient_data"})


@dataclass(frozen=True, kw_only=True)
class HeartRateSummary:
    """A day's heart rate, beats/min unless the name says otherwise.

    Attributes
    ----------
    rules_active
        ``False`` for patients on beta-blockers: no limit, zones or heart-rate flags.
    rules_checked
        Whether the day's heart rate was checked against a limit (``False`` when the rules are
        off or there was no heart rate to check).
    not_checked_reason
        Plain language: why heart-rate rules did not run, or ran only in part (e.g. no resting
        rate known, so the limit came from maximum heart rate); ``None`` when all ran.
    resting_bpm, resting_source
        Resting heart rate and where it came from (``override`` | ``estimated`` |
        ``recent_days`` | ``none``).
    resting_night
        For a resting rate estimated from the day's own heart rate: whether that heart rate
        covered the night (sleep lowers it), else ``None``. The baseline and the rise compare
        estimates of the same kind only.
    resting_baseline_bpm
        Median resting rate of the recent days whose estimate is of the same kind (with or
        without the night; ``None`` with too few such days).
    resting_elevated
        Resting rate at or above baseline plus the configured rise.
    min_bpm, mean_bpm, max_bpm
        Lowest minute mean, sample-weighted mean and highest sample of the day (``None``
        without heart rate).
    hr_max_bpm
        Maximum heart rate used for the reserve (override or Tanaka 2001).
    limit_bpm
        The day's heart-rate limit (``None`` when rules are off).
    limit_basis
        How the limit was set: ``override`` | ``heart_rate_reserve`` (a fraction of the reserve
        above the resting rate) | ``hr_max`` (a fraction of HRmax, no resting rate known);
        ``None`` without a limit.
    minutes_light, minutes_moderate, minutes_vigorous
        Minutes below 40 %, at 40–59 % and at or above 60 % of heart-rate reserve (``None``
        when rules are off or no resting rate is known).
    minutes_above_limit
        Minutes whose mean heart rate exceeded the limit (``None`` without a limit).
    """

    rules_active: bool
    rules_checked: bool
    not_checked_reason: str | None
    resting_bpm: float | None
    resting_source: RestingSource
    resting_night: bool | None
    resting_baseline_bpm: float | None
    resting_elevated: bool
    min_bpm: float | None
    mean_bpm: float | None
    max_bpm: float | None
    hr_max_bpm: float
    limit_bpm: float | None
    limit_basis: LimitBasis | None
    minutes_light: int | None
    minutes_moderate: int | None
    minutes_vigorous: int | None
    minutes_above_limit: int | None


@dataclass(frozen=True, kw_only=True)
class DaySummary:
    """The analysis of one patient-local day.

    Attributes
    ----------
    date
        The patient-local calendar day.
    day_start_s, n_minutes
        Its start (epoch s, UTC) and length (minutes).
    wear_minutes
        Minutes the band was worn.
    steps
        Steps in the calendar day.
    active_minutes
        Worn minutes walking (≥ the cadence threshold) or pedalling, in or out of sessions.
    aerobic_minutes
        Active minutes inside sessions: the figure compared with the plan.
    aerobic_minutes_by_kind
        ``walking``, ``biking`` and ``running`` shares of ``aerobic_minutes``.
    sessions
        The sessions that started this day (a session crossing midnight is whole here).
    heart_rate
        Heart-rate figures.
    targets
        The plan in force on the day.
    status
        ``in_progress`` (the day has not ended) | ``insufficient_data`` (too little wear to
        judge) | ``pre_operative`` (a complete day before surgery with enough wear: valid for a
        baseline, not judged against the plan, no flags) | ``below`` | ``on_track`` | ``above``.
    flags
        Findings, each with code, severity, message and evidence.
    analysis_version, thresholds_version
        Versions of the code and of the threshold file that produced the summary.
    """

    date: date
    day_start_s: int
    n_minutes: int
    wear_minutes: int
    steps: int
    active_minutes: int
    aerobic_minutes: int
    aerobic_minutes_by_kind: Mapping[str, int]
    sessions: tuple[Session, ...]
    heart_rate: HeartRateSummary
    targets: DayTargets
    status: DayStatus
    flags: tuple[Flag, ...]
    analysis_version: str
    thresholds_version: str

    @property
    def judged(self) -> bool:
        """Whether the day is valid: complete, with enough wear (before surgery too, where it
        counts for the baseline but is not compared with the plan)."""
        return self.status not in UNJUDGED

    @property
    def longest_session_min(self) -> int:
        """Duration of the day's longest session, minutes (0 without sessions)."""
        return max((s.duration_min for s in self.sessions), default=0)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe representation: primitives only, dates ``YYYY-MM-DD``, times ISO-8601 UTC.

        Every time once: ``day_start`` and the sessions' ``start``/``end`` stand for the epoch
        seconds of the dataclasses (``day_start_s``, ``start_s``, ``end_s``).
        """
        t = self.targets
        return {
            "date": self.date.isoformat(),
            "day_start": iso_utc(self.day_start_s),
            "n_minutes": self.n_minutes,
            "wear_minutes": self.wear_minutes,
            "steps": self.steps,
            "active_minutes": self.active_minutes,
            "aerobic_minutes": self.aerobic_minutes,
            "aerobic_minutes_by_kind": dict(self.aerobic_minutes_by_kind),
            "sessions": [_session_dict(s) for s in self.sessions],
            "heart_rate": dict(vars(self.heart_rate)),
            "targets": {
                "week": t.week,
                "ramp": t.ramp,
                "phase": t.phase,
                "aerobic_min_low": t.aerobic_min_low,
                "aerobic_min_high": t.aerobic_min_high,
                "max_session_min": t.max_session_min,
                "hr_limit_bpm": t.hr_limit_bpm,
                "cleared": dict(t.cleared),
                "plan_version": t.plan_version,
                "override_from": t.override_from.isoformat() if t.override_from else None,
                "before_surgery": t.before_surgery,
            },
            "status": self.status,
            "judged": self.judged,
            "flags": [f.to_dict() for f in self.flags],
            "analysis_version": self.analysis_version,
            "thresholds_version": self.thresholds_version,
        }


def _session_dict(session: Session) -> dict[str, object]:
    """JSON-safe representation of one session (its times ISO-8601 UTC, ``start`` and ``end``)."""
    out: dict[str, object] = {"start": iso_utc(session.start_s), "end": iso_utc(session.end_s)}
    out.update((k, v) for k, v in vars(session).items() if k not in ("start_s", "end_s"))
    return out


def _epoch_s(text: str) -> int:
    """Epoch seconds of an ISO-8601 UTC time written by :func:`~analysis.flags.iso_utc`."""
    return int(datetime.fromisoformat(text).timestamp())


_HR_FIELDS = frozenset(f.name for f in fields(HeartRateSummary))


def _heart_rate(raw: Mapping[str, Any]) -> HeartRateSummary:
    """The heart-rate part of a stored summary (keys a consumer added are skipped)."""
    values = {k: v for k, v in raw.items() if k in _HR_FIELDS}
    values["resting_source"] = _choice(
        values.get("resting_source"), get_args(RestingSource), "resting_source"
    )
    if values.get("limit_basis") is not None:
        values["limit_basis"] = _choice(values["limit_basis"], get_args(LimitBasis), "limit_basis")
    return HeartRateSummary(**values)


def _choice(value: object, allowed: tuple[_C, ...], name: str) -> _C:
    """``value`` if it is one of ``allowed``, else a ``ValueError`` naming the field."""
    for option in allowed:
        if value == option:
            return option
    raise ValueError(f"{name} {value!r} is not one of {allowed}")


def summary_from_dict(document: Mapping[str, Any]) -> DaySummary:
    """Rebuild a :class:`DaySummary` from :meth:`DaySummary.to_dict` output (stored history).

    Raises
    ------
    InputError
        When ``document`` lacks a field or holds a value of the wrong kind.
    """
    try:
        t = document["targets"]
        targets = DayTargets(
            week=int(t["week"]),
            ramp=str(t["ramp"]),
            phase=_choice(t["phase"], PHASES, "phase"),
            aerobic_min_low=float(t["aerobic_min_low"]),
            aerobic_min_high=float(t["aerobic_min_high"]),
            max_session_min=float(t["max_session_min"]),
            hr_limit_bpm=None if t["hr_limit_bpm"] is None else float(t["hr_limit_bpm"]),
            cleared=MappingProxyType({str(k): bool(v) for k, v in t["cleared"].items()}),
            plan_version=str(t["plan_version"]),
            override_from=None
            if t["override_from"] is None
            else date.fromisoformat(t["override_from"]),
            before_surgery=bool(t.get("before_surgery", False)),
        )
        # Keys the dataclasses do not know (fields a consumer added) are skipped, so a stored
        # document may carry more than to_dict() wrote.
        session_fields = {f.name for f in fields(Session)} - {"start_s", "end_s"}
        sessions = tuple(
            Session(
                start_s=_epoch_s(s["start"]),
                end_s=_epoch_s(s["end"]),
                **{k: v for k, v in s.items() if k in session_fields},
            )
            for s in document["sessions"]
        )
        flags = tuple(
            Flag(
                code=f["code"],
                severity=f["severity"],
                message=str(f["message"]),
                evidence=MappingProxyType(dict(f["evidence"])),
            )
            for f in document["flags"]
        )
        return DaySummary(
            date=date.fromisoformat(document["date"]),
            day_start_s=_epoch_s(document["day_start"]),
            n_minutes=int(document["n_minutes"]),
            wear_minutes=int(document["wear_minutes"]),
            steps=int(document["steps"]),
            active_minutes=int(document["active_minutes"]),
            aerobic_minutes=int(document["aerobic_minutes"]),
            aerobic_minutes_by_kind=MappingProxyType(
                {str(k): int(v) for k, v in document["aerobic_minutes_by_kind"].items()}
            ),
            sessions=sessions,
            heart_rate=_heart_rate(document["heart_rate"]),
            targets=targets,
            status=_choice(document["status"], get_args(DayStatus), "status"),
            flags=flags,
            analysis_version=str(document["analysis_version"]),
            thresholds_version=str(document["thresholds_version"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"not a stored day summary: {exc!r}", field="document") from exc
