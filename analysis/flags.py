"""Flags: stable codes, severities, plain-language messages and evidence, from one day's facts.

Multi-day rules (streaks, ramp, resting-HR rise, no data) fire on the day their condition
starts, not on every day it lasts: alert fatigue is the main way such systems fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis._runs import mask_runs
from analysis.config import FlagRules, Severity
from analysis.grid import SECONDS_PER_MINUTE

__all__ = [
    "FLAG_CODES",
    "EvidenceValue",
    "Flag",
    "FlagCode",
    "hr_over_limit_flag",
    "iso_utc",
    "make_flag",
]

FlagCode = Literal[
    "HR_OVER_LIMIT",
    "SESSION_TOO_LONG",
    "DAILY_OVER_TARGET",
    "RAMP_TOO_FAST",
    "HIGH_IMPACT_BEFORE_CLEARANCE",
    "BELOW_TARGET_STREAK",
    "NO_DATA",
    "RESTING_HR_RISE",
    "RECOVERY_BEHIND",
]
FLAG_CODES: tuple[FlagCode, ...] = (
    "HR_OVER_LIMIT",
    "SESSION_TOO_LONG",
    "DAILY_OVER_TARGET",
    "RAMP_TOO_FAST",
    "HIGH_IMPACT_BEFORE_CLEARANCE",
    "BELOW_TARGET_STREAK",
    "NO_DATA",
    "RESTING_HR_RISE",
    # Judged on a week since surgery, not on a day: raised by analysis.trajectory.
    "RECOVERY_BEHIND",
)
EvidenceValue = str | int | float | bool | None


@dataclass(frozen=True, kw_only=True)
class Flag:
    """One finding about a day.

    Attributes
    ----------
    code
        Stable machine-readable code (one of :data:`FLAG_CODES`).
    severity
        ``info`` | ``warning`` | ``urgent``.
    message
        Plain-language explanation for a patient or nurse.
    evidence
        What was measured and against what: times (ISO-8601 UTC), values with units in the
        key names, the limit and the plan version. JSON-safe values only.
    """

    code: FlagCode
    severity: Severity
    message: str
    evidence: Mapping[str, EvidenceValue]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe representation."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": dict(self.evidence),
        }


def iso_utc(epoch_s: int | float) -> str:
    """Epoch seconds as an ISO-8601 UTC string (``2026-05-10T09:00:00Z``)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_flag(
    code: FlagCode, *, rules: FlagRules, message: str, evidence: Mapping[str, EvidenceValue]
) -> Flag:
    """Build a flag with the configured severity and read-only, JSON-safe evidence."""
    clean = {k: (float(v) if isinstance(v, np.floating) else v) for k, v in evidence.items()}
    return Flag(
        code=code, severity=rules.severity[code], message=message, evidence=MappingProxyType(clean)
    )


def hr_over_limit_flag(
    hr_mean_bpm: npt.NDArray[np.float64],
    *,
    day_start_s: int,
    limit_bpm: float,
    limit_basis: str,
    phase: str,
    excluded: npt.NDArray[np.bool_] | None,
    rules: FlagRules,
    plan_version: str,
) -> Flag | None:
    """``HR_OVER_LIMIT``: minute-mean heart rate above the limit for enough consecutive minutes.

    Minutes in ``excluded`` (running before clearance: that is its own finding) do not count.

    Parameters
    ----------
    hr_mean_bpm
        The day's minute-mean heart rate, beats/min (``nan`` where none).
    day_start_s
        Start of the day, epoch seconds.
    limit_bpm
        The patient's heart-rate limit, beats/min.
    limit_basis, phase
        How the limit was set and the plan phase, recorded in the evidence.
    excluded
        Minutes not to judge (``None``: all count).
    rules
        Flag rules (``hr_min_consecutive_min``).
    plan_version
        Plan version, recorded in the evidence.

    Returns
    -------
    Flag or None
        One flag summarising every episode of the day, or ``None``.
    """
    with np.errstate(invalid="ignore"):
        over = hr_mean_bpm > limit_bpm
    skipped = 0
    if excluded is not None and excluded.any():
        skipped = int(np.count_nonzero(over & excluded))
        over &= ~excluded
    if not over.any():
        return None
    starts, ends = mask_runs(over)
    long_enough = (ends - starts) >= rules.hr_min_consecutive_min
    if not long_enough.any():
        return None
    starts, ends = starts[long_enough], ends[long_enough]
    lengths = ends - starts
    longest = int(np.argmax(lengths))
    peak = float(np.nanmax(np.where(over, hr_mean_bpm, np.nan)))
    minutes = int(lengths.sum())
    return make_flag(
        "HR_OVER_LIMIT",
        rules=rules,
        message=(
            f"Your heart rate stayed above your limit of {limit_bpm:.0f} beats per minute for "
            f"{int(lengths[longest])} minutes in a row ({minutes} minutes in all today). Slow "
            "down when this happens, and tell your care team if it keeps happening."
        ),
        evidence={
            "episodes": int(starts.size),
            "first_start": iso_utc(day_start_s + SECONDS_PER_MINUTE * int(starts[0])),
            "longest_start": iso_utc(day_start_s + SECONDS_PER_MINUTE * int(starts[longest])),
            "longest_end": iso_utc(day_start_s + SECONDS_PER_MINUTE * int(ends[longest])),
            "longest_min": int(lengths[longest]),
            "minutes_above_limit": minutes,
            "peak_minute_mean_bpm": round(peak, 1),
            "limit_bpm": round(limit_bpm, 1),
            "limit_basis": limit_basis,
            "phase": phase,
            "minutes_above_limit_in_running": skipped,
            "min_consecutive_min": rules.hr_min_consecutive_min,
            "plan_version": plan_version,
        },
    )


def streak_start(flags_by_day: Sequence[bool], *, length: int) -> bool:
    """Whether the condition list (oldest first, today last) ends in a run of exactly ``length``."""
    if len(flags_by_day) < length or not all(flags_by_day[-length:]):
        return False
    return len(flags_by_day) == length or not flags_by_day[-length - 1]
