"""CSV export of the daily summaries for research: ``GET /v1/patients/{id}/days.csv``.

Each served day is read typed (:func:`service.summaries.served_day_record`: the decoded
``analysis.DaySummary``, or the status of a date without one, and the day's check-ins).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from starlette.responses import Response

from service.api.deps import ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.api.routes.days import ServedRangeQuery
from service.summaries import DayRecord, served_day_record

__all__ = ["CSV_COLUMNS", "day_row", "router"]

router = APIRouter(prefix="/v1/patients", tags=["export"], responses=PROBLEM_RESPONSES)

#: One row per patient-local date of the range, in this order. Empty cells: no stored summary
#: (`pending`, `in_progress` without one, `not_monitored`) or no figure (no heart rate).
CSV_COLUMNS: tuple[str, ...] = (
    "date",
    "status",
    "judged",
    "steps",
    "wear_minutes",
    "active_minutes",
    "aerobic_minutes",
    "walking_minutes",
    "biking_minutes",
    "running_minutes",
    "sessions",
    "longest_session_min",
    "resting_hr_bpm",
    "resting_source",
    "mean_hr_bpm",
    "max_hr_bpm",
    "hr_limit_bpm",
    "plan_week",
    "plan_phase",
    "target_low_min",
    "target_high_min",
    "flags",
    "checkins",
    "analysis_version",
)
_JUDGED = frozenset({"pre_operative", "below", "on_track", "above"})


def _figure(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return str(value)


def day_row(day: DayRecord) -> list[str]:
    """The CSV cells of one served day (:data:`CSV_COLUMNS`). Only codes and numbers: no free
    text (notes, messages) reaches the file, so no cell can start a spreadsheet formula."""
    values: dict[str, Any] = {
        "date": day.date.isoformat(),
        "status": day.status,
        "judged": "true" if day.status in _JUDGED else "false",
        "checkins": len(day.checkins),
    }
    s = day.summary
    if s is not None:
        hr, t, kinds = s.heart_rate, s.targets, s.aerobic_minutes_by_kind
        values |= {
            "steps": s.steps,
            "wear_minutes": s.wear_minutes,
            "active_minutes": s.active_minutes,
            "aerobic_minutes": s.aerobic_minutes,
            "walking_minutes": kinds.get("walking"),
            "biking_minutes": kinds.get("biking"),
            "running_minutes": kinds.get("running"),
            "sessions": len(s.sessions),
            "longest_session_min": s.longest_session_min,
            "resting_hr_bpm": hr.resting_bpm,
            "resting_source": hr.resting_source,
            "mean_hr_bpm": hr.mean_bpm,
            "max_hr_bpm": hr.max_bpm,
            "hr_limit_bpm": hr.limit_bpm,
            "plan_week": t.week,
            "plan_phase": t.phase,
            "target_low_min": t.aerobic_min_low,
            "target_high_min": t.aerobic_min_high,
            "flags": ";".join(f.code for f in s.flags),
            "analysis_version": s.analysis_version,
        }
    return [_figure(values.get(c)) for c in CSV_COLUMNS]


@router.get(
    "/{patient_id}/days.csv",
    description=(
        "The daily summaries of `from` … `to` (default the last 30 days; at most 366) as CSV,"
        " one row per patient-local date up to the patient's today, columns: "
        + ", ".join(f"`{c}`" for c in CSV_COLUMNS)
        + ". `flags` are the day's flag codes separated by `;`."
    ),
    responses={200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}},
    response_class=Response,
)
async def days_csv(patient_id: UUID, patient: ScopedPatient, served: ServedRangeQuery) -> Response:
    """The patient's days as CSV (a header row, then one row per date)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for text in served.days:
        writer.writerow(day_row(served_day_record(text)))
    name = f"days-{patient.id}-{served.first.isoformat()}-{served.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
