"""Weekly progress since surgery, from daily summaries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from analysis.plan import DAYS_PER_WEEK
from analysis.summary import DaySummary

__all__ = ["WeekProgress", "weekly_progress"]


@dataclass(frozen=True, kw_only=True)
class WeekProgress:
    """Progress over one week since surgery.

    Attributes
    ----------
    week
        Week since surgery (1 starts on the surgery day; days before surgery give week ≤ 0).
    start_date, end_date
        First and last calendar day of the week.
    days_with_summary
        Days of the week that have a summary.
    judged_days
        Days with enough wear to be judged.
    median_daily_aerobic_min
        Median aerobic minutes over the judged days (``None`` without judged days).
    longest_session_min
        Longest session of the week, minutes (0 without sessions).
    days_on_track
        Judged days within the plan's range.
    adherence_pct
        Share of the days with a summary that met at least the plan's lower bound
        (``on_track`` or ``above``), percent; days without enough wear count as not met.
    """

    week: int
    start_date: date
    end_date: date
    days_with_summary: int
    judged_days: int
    median_daily_aerobic_min: float | None
    longest_session_min: int
    days_on_track: int
    adherence_pct: float

    def to_dict(self) -> dict[str, object]:
        """JSON-safe representation (dates as ``YYYY-MM-DD``)."""
        out: dict[str, object] = dict(vars(self))
        out["start_date"] = self.start_date.isoformat()
        out["end_date"] = self.end_date.isoformat()
        return out


def weekly_progress(*, summaries: Iterable[DaySummary], surgery_date: date) -> list[WeekProgress]:
    """Group daily summaries into weeks since surgery.

    Parameters
    ----------
    summaries
        Daily summaries, any order (one per date; a later duplicate replaces an earlier one).
        Days still in progress are left out: a week's figures come from complete days.
    surgery_date
        The day of surgery (first day of week 1).

    Returns
    -------
    list of WeekProgress
        One entry per week that has at least one summary, in week order.
    """
    by_week: dict[int, dict[date, DaySummary]] = {}
    for s in summaries:
        if s.status == "in_progress":
            continue
        week = (s.date - surgery_date).days // DAYS_PER_WEEK + 1
        by_week.setdefault(week, {})[s.date] = s
    out = []
    for week in sorted(by_week):
        days = list(by_week[week].values())
        judged = [d for d in days if d.judged]
        met = sum(d.status in ("on_track", "above") for d in days)
        start = surgery_date + timedelta(days=(week - 1) * DAYS_PER_WEEK)
        out.append(
            WeekProgress(
                week=week,
                start_date=start,
                end_date=start + timedelta(days=DAYS_PER_WEEK - 1),
                days_with_summary=len(days),
                judged_days=len(judged),
                median_daily_aerobic_min=(
                    float(median(d.aerobic_minutes for d in judged)) if judged else None
                ),
                longest_session_min=max((d.longest_session_min for d in days), default=0),
                days_on_track=sum(d.status == "on_track" for d in days),
                adherence_pct=round(100.0 * met / len(days), 1),
            )
        )
    return out
