"""Recovery trajectory: weekly steps against the patient's own baseline and the expected band.

A baseline is the median daily steps of valid (judged) pre-operative days, or one entered by the
clinician with its source. Weeks since surgery get their median steps and aerobic minutes, the
percentage of the baseline and the expected band of ``data/recovery.json``; two milestones (the
absolute steps/day by week 6, and the return to 90 % of baseline) carry the date each was met.
``RECOVERY_BEHIND`` (info, for the care team) is judged on complete weeks. Without a baseline
only the absolute milestone is judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from types import MappingProxyType
from typing import Literal, Protocol

from analysis._recovery_model import RecoveryModel, load_recovery
from analysis.errors import InputError
from analysis.flags import EvidenceValue, Flag
from analysis.plan import DAYS_PER_WEEK

__all__ = [
    "RECOVERY_BEHIND",
    "Baseline",
    "DayFigures",
    "DaySteps",
    "Milestone",
    "Trajectory",
    "TrajectoryWeek",
    "preoperative_baseline",
    "recovery_behind",
    "recovery_trajectory",
]

RECOVERY_BEHIND = "RECOVERY_BEHIND"
BaselineKind = Literal["pre_operative", "entered"]
Position = Literal["below", "within", "above"]
MilestoneStatus = Literal["met", "missed", "pending", "not_applicable"]


class DayFigures(Protocol):
    """What the trajectory reads of a day: a :class:`~analysis.DaySummary` has it all."""

    @property
    def date(self) -> date: ...
    @property
    def steps(self) -> int: ...
    @property
    def aerobic_minutes(self) -> int: ...
    @property
    def judged(self) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class DaySteps:
    """A day's figures as stored beside its summary (``judged``: complete, with enough wear)."""

    date: date
    steps: int
    aerobic_minutes: int
    judged: bool


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """The patient's usual daily steps before the operation.

    Attributes
    ----------
    steps_per_day
        Median daily steps.
    kind
        ``pre_operative`` (measured by the band before surgery) | ``entered`` (by a clinician).
    source
        Plain language: where it came from ("measured by the band on 12 valid pre-operative
        days, 2026-04-10 … 2026-04-30"
        or the clinician's text, e.g. "patient's phone, last 3 months").
    valid_days
        Valid pre-operative days behind a measured baseline (``None`` when entered).
    """

    steps_per_day: float
    kind: BaselineKind
    source: str
    valid_days: int | None = None


@dataclass(frozen=True, kw_only=True)
class TrajectoryWeek:
    """One week since surgery against the expected band.

    Attributes
    ----------
    week, start_date, end_date
        Week since surgery (1 starts on the surgery day) and its first and last day.
    complete
        Whether the week has ended (its last day is before today).
    valid_days
        Judged days of the week with a summary.
    median_steps, median_aerobic_min
        Medians over the valid days (``None`` with fewer than the week's minimum valid days).
    pct_of_baseline
        ``median_steps`` as percent of the baseline (``None`` without either).
    band_low_pct, band_expected_pct, band_high_pct
        The expected band of the week, percent of baseline.
    position
        ``below`` | ``within`` | ``above`` the band (``None`` without a percentage).
    """

    week: int
    start_date: date
    end_date: date
    complete: bool
    valid_days: int
    median_steps: float | None
    median_aerobic_min: float | None
    pct_of_baseline: float | None
    band_low_pct: float
    band_expected_pct: float
    band_high_pct: float
    position: Position | None


@dataclass(frozen=True, kw_only=True)
class Milestone:
    """A recovery milestone and when it was met.

    Attributes
    ----------
    code
        ``steps_by_week_6`` (median daily steps of a complete week reach the milestone) |
        ``return_to_baseline`` (steps at or above the return percentage of baseline on
        consecutive valid days).
    label
        Plain language, e.g. "3,500 steps a day by week 6".
    status
        ``met`` | ``missed`` (its week ended without it; it may still be met later, then
        ``met`` with ``met_week`` after ``due_week``) | ``pending`` | ``not_applicable`` (needs a
        baseline).
    met_on, met_week
        The day it was met (the week's last day, or the second of the consecutive days).
    due_week, expected_by
        The week it is due (``steps_by_week_6``); the day a typical patient meets it.
    """

    code: Literal["steps_by_week_6", "return_to_baseline"]
    label: str
    status: MilestoneStatus
    met_on: date | None
    met_week: int | None
    due_week: int | None
    expected_by: date | None


@dataclass(frozen=True, kw_only=True)
class Trajectory:
    """A patient's recovery so far.

    Attributes
    ----------
    baseline
        The baseline in use (entered wins over measured), or ``None``.
    preoperative
        The measured pre-operative baseline, when there are enough valid days.
    band
        Name of the expected band (by surgery type and approach); ``version`` of the data file.
    weeks
        Every week since surgery up to today's, in order.
    milestones
        ``steps_by_week_6`` and ``return_to_baseline``.
    behind, behind_reason
        Whether recovery is behind now (the last complete weeks below the band, or the week-6
        milestone missed and not met since) and why, in plain language.
    """

    baseline: Baseline | None
    preoperative: Baseline | None
    band: str
    version: str
    weeks: tuple[TrajectoryWeek, ...]
    milestones: tuple[Milestone, ...]
    behind: bool
    behind_reason: str | None


def _valid(summaries: Iterable[DayFigures]) -> dict[date, DayFigures]:
    return {s.date: s for s in summaries if s.judged}


def preoperative_baseline(
    *, summaries: Iterable[DayFigures], surgery_date: date, model: RecoveryModel | None = None
) -> Baseline | None:
    """Median daily steps of the valid (judged) days before surgery, or ``None`` with too few.

    Days up to ``baseline_window_days`` before the surgery day count (``recovery.json``).
    """
    m = model or load_recovery()
    first = surgery_date - timedelta(days=m.baseline_window_days)
    days = sorted(
        (s for d, s in _valid(summaries).items() if first <= d < surgery_date),
        key=lambda s: s.date,
    )
    if len(days) < m.baseline_min_valid_days:
        return None
    return Baseline(
        steps_per_day=float(median(s.steps for s in days)),
        kind="pre_operative",
        source=(
            f"measured by the band on {len(days)} valid pre-operative days, "
            f"{days[0].date.isoformat()} … {days[-1].date.isoformat()}"
        ),
        valid_days=len(days),
    )


def _position(pct: float | None, low: float, high: float) -> Position | None:
    if pct is None:
        return None
    return "below" if pct < low else ("above" if pct > high else "within")


def _weeks(
    valid: Mapping[date, DayFigures],
    *,
    surgery_date: date,
    today: date,
    band: str,
    baseline: Baseline | None,
    model: RecoveryModel,
) -> tuple[TrajectoryWeek, ...]:
    out = []
    last_week = max(1, (today - surgery_date).days // DAYS_PER_WEEK + 1)
    for week in range(1, last_week + 1):
        start = surgery_date + timedelta(days=(week - 1) * DAYS_PER_WEEK)
        end = start + timedelta(days=DAYS_PER_WEEK - 1)
        days = [s for d, s in valid.items() if start <= d <= end and d < today]
        enough = len(days) >= model.week_min_valid_days
        steps = float(median(s.steps for s in days)) if enough else None
        pct = None
        if steps is not None and baseline is not None and baseline.steps_per_day > 0:
            pct = round(100.0 * steps / baseline.steps_per_day, 1)
        b = model.band_week(band=band, week=week)
        out.append(
            TrajectoryWeek(
                week=week,
                start_date=start,
                end_date=end,
                complete=end < today,
                valid_days=len(days),
                median_steps=steps,
                median_aerobic_min=(
                    float(median(s.aerobic_minutes for s in days)) if enough else None
                ),
                pct_of_baseline=pct,
                band_low_pct=b.low_pct,
                band_expected_pct=b.expected_pct,
                band_high_pct=b.high_pct,
                position=_position(pct, b.low_pct, b.high_pct),
            )
        )
    return tuple(out)


def _steps_milestone(weeks: tuple[TrajectoryWeek, ...], model: RecoveryModel) -> Milestone:
    due = model.milestone_steps_by_week
    hit = next(
        (
            w
            for w in weeks
            if w.complete
            and w.median_steps is not None
            and w.median_steps >= model.milestone_steps_per_day
        ),
        None,
    )
    due_done = any(w.week == due and w.complete for w in weeks)
    status: MilestoneStatus = "met" if hit is not None else ("missed" if due_done else "pending")
    return Milestone(
        code="steps_by_week_6",
        label=f"{model.milestone_steps_per_day:,.0f} steps a day by week {due}",
        status=status,
        met_on=hit.end_date if hit else None,
        met_week=hit.week if hit else None,
        due_week=due,
        expected_by=None,
    )


def _return_milestone(
    valid: Mapping[date, DayFigures],
    *,
    surgery_date: date,
    today: date,
    baseline: Baseline | None,
    band: str,
    model: RecoveryModel,
) -> Milestone:
    label = f"back to {model.return_pct:.0f} % of your usual steps"
    expected = surgery_date + timedelta(days=model.return_expected_day[band])
    if baseline is None:
        return Milestone(
            code="return_to_baseline", label=label, status="not_applicable", met_on=None,
            met_week=None, due_week=None, expected_by=None,
        )  # fmt: skip
    threshold = baseline.steps_per_day * model.return_pct / 100.0
    run, met_on = 0, None
    day = surgery_date
    while day < today:
        s = valid.get(day)
        run = run + 1 if s is not None and s.steps >= threshold else 0
        if run >= model.return_consecutive_days:
            met_on = day
            break
        day += timedelta(days=1)
    return Milestone(
        code="return_to_baseline",
        label=label,
        status="met" if met_on else "pending",
        met_on=met_on,
        met_week=(met_on - surgery_date).days // DAYS_PER_WEEK + 1 if met_on else None,
        due_week=None,
        expected_by=expected,
    )


def recovery_trajectory(
    *,
    summaries: Iterable[DayFigures],
    surgery_date: date,
    surgery_type: str,
    approach: str,
    today: date,
    entered_baseline: Baseline | None = None,
    model: RecoveryModel | None = None,
) -> Trajectory:
    """The recovery trajectory from daily summaries (any order; in-progress days are left out).

    Parameters
    ----------
    summaries
        Daily summaries before and after surgery; only judged days count.
    surgery_date, surgery_type, approach
        The operation (the band follows type and approach).
    today
        The patient's local today: days from it on are not complete.
    entered_baseline
        A baseline entered by the clinician; it wins over the measured pre-operative one.
    model
        The recovery bands (default: the packaged ``recovery.json``).
    """
    m = model or load_recovery()
    if entered_baseline is not None and entered_baseline.steps_per_day <= 0:
        raise InputError("entered_baseline.steps_per_day must be positive", field="baseline")
    valid = _valid(summaries)
    band = m.band_for(surgery_type=surgery_type, approach=approach)
    pre = preoperative_baseline(summaries=valid.values(), surgery_date=surgery_date, model=m)
    baseline = entered_baseline or pre
    weeks = _weeks(
        valid, surgery_date=surgery_date, today=today, band=band, baseline=baseline, model=m
    )
    steps = _steps_milestone(weeks, m)
    back = _return_milestone(
        valid, surgery_date=surgery_date, today=today, baseline=baseline, band=band, model=m
    )
    reason = _behind_now(weeks, steps, m)
    return Trajectory(
        baseline=baseline,
        preoperative=pre,
        band=band,
        version=m.version,
        weeks=weeks,
        milestones=(steps, back),
        behind=reason is not None,
        behind_reason=reason,
    )


def _below_run(weeks: tuple[TrajectoryWeek, ...], upto: int) -> int:
    """Measured complete weeks below the band in a row ending at week ``upto`` (0 when that week
    was not measured). Weeks with too few valid days are skipped: missing data is no evidence of
    slow recovery (``NO_DATA`` is its own rule)."""
    if not weeks[upto - 1].complete or weeks[upto - 1].median_steps is None:
        return 0
    run = 0
    for w in weeks[:upto][::-1]:
        if w.median_steps is None:
            continue
        if not (w.complete and w.position == "below"):
            break
        run += 1
    return run


def _band_text(ws: list[TrajectoryWeek], baseline: Baseline | None) -> str:
    shares = " and ".join(f"{w.pct_of_baseline:.0f} %" for w in ws)
    lows = " and ".join(f"{w.band_low_pct:.0f} %" for w in ws)
    where = "" if baseline is None else (
        f" of the baseline of {baseline.steps_per_day:,.0f} steps/day ({baseline.source})"
    )  # fmt: skip
    return (
        f"daily steps in weeks {' and '.join(str(w.week) for w in ws)} were {shares}{where}, below the "
        f"expected band's low edge of {lows}"
    )


def _steps_text(week: TrajectoryWeek | None, m: RecoveryModel) -> str:
    measured = (
        "had too few valid days to measure"
        if week is None or week.median_steps is None
        else f"had a median of {week.median_steps:,.0f} steps/day"
    )
    return (
        f"week {m.milestone_steps_by_week} {measured}, short of the "
        f"{m.milestone_steps_per_day:,.0f} steps/day that predict the best 1-year outcome "
        f"(odds ratio {m.milestone_steps_odds_ratio:g}, Master 2021)"
    )


def _behind_now(
    weeks: tuple[TrajectoryWeek, ...], steps: Milestone, m: RecoveryModel
) -> str | None:
    complete = [w for w in weeks if w.complete and w.median_steps is not None]
    if not complete:
        return None
    k = m.behind_consecutive_weeks
    if _below_run(weeks, complete[-1].week) >= k:
        return "Recovery is behind the expected band: " + _band_text(complete[-k:], None) + "."
    due = next((w for w in weeks if w.week == m.milestone_steps_by_week), None)
    if steps.status == "missed" and due is not None and due.median_steps is not None:
        # As the flag: judged only when the milestone week's median was measured.
        return "Recovery is behind the absolute milestone: " + _steps_text(due, m) + "."
    return None


def recovery_behind(
    *, trajectory: Trajectory, week: int, model: RecoveryModel | None = None
) -> Flag | None:
    """``RECOVERY_BEHIND`` when its condition starts with the completed ``week``, else ``None``.

    It starts when ``week`` completes a run of ``behind_consecutive_weeks`` complete weeks below
    the band (not on every later week of the run), or when the milestone week (6) ends with its
    median measured and the absolute milestone not met, unless a run below the band that started
    earlier still holds (one behaviour, one flag). Severity info: it is for the care team and
    never alarms the patient.
    """
    m = model or load_recovery()
    weeks = trajectory.weeks
    if not 1 <= week <= len(weeks) or not weeks[week - 1].complete:
        return None
    k = m.behind_consecutive_weeks
    run = _below_run(weeks, week)
    band_starts = run == k
    steps = trajectory.milestones[0]
    due = weeks[week - 1]
    steps_missed = (
        week == m.milestone_steps_by_week
        and (steps.met_week is None or steps.met_week > week)
        and due.median_steps is not None
        and run <= k
    )
    if not band_starts and not steps_missed:
        return None
    parts = []
    if band_starts:
        measured = [w for w in weeks[:week] if w.median_steps is not None]
        parts.append(_band_text(measured[-k:], trajectory.baseline))
    if steps_missed:
        parts.append(_steps_text(due, m))
    message = "Recovery is behind what is expected: " + "; ".join(parts) + "."
    evidence: dict[str, EvidenceValue] = {
        "week": week,
        "week_end": due.end_date.isoformat(),
        "weeks_below_band": run,
        "pct_of_baseline": due.pct_of_baseline,
        "band_low_pct": due.band_low_pct,
        "band": trajectory.band,
        "median_steps": due.median_steps,
        "milestone_steps_per_day": m.milestone_steps_per_day,
        "milestone_missed": steps_missed,
        "baseline_steps_per_day": (
            trajectory.baseline.steps_per_day if trajectory.baseline else None
        ),
        "baseline_source": trajectory.baseline.source if trajectory.baseline else None,
        "recovery_version": trajectory.version,
    }
    return Flag(
        code="RECOVERY_BEHIND", severity="info", message=message,
        evidence=MappingProxyType(evidence),
    )  # fmt: skip
