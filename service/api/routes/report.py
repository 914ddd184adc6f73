"""The weekly clinic report: ``GET /v1/patients/{id}/report?week_of=`` (the care team's)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.responses import Response

from service.api.deps import Conn, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.api.routes.days import EARLIEST_DAY, LATEST_DAY, _today
from service.errors import ValidationFailedError
from service.report import load_week, render_pdf

router = APIRouter(prefix="/v1/patients", tags=["export"], responses=PROBLEM_RESPONSES)

WeekOfQuery = Annotated[
    date | None,
    Query(description="A day of the week to report, YYYY-MM-DD (default: the patient's today)."),
]


@router.get(
    "/{patient_id}/report",
    description=(
        "The weekly clinic report as a PDF: the week since surgery containing `week_of` (week 1"
        " = the day of surgery and the six days after): the patient and the operation, the plan"
        " and clearances in force, the days (a chart of aerobic minutes against the plan's range"
        " and a table), the week's flags, its alerts with how they were handled, and check-ins."
    ),
    responses={200: {"content": {"application/pdf": {}}, "description": "The report (PDF)"}},
    response_class=Response,
)
async def weekly_report(
    patient_id: UUID, patient: ScopedPatient, conn: Conn, week_of: WeekOfQuery = None
) -> Response:
    """One week of the patient as a PDF for the clinic visit."""
    if week_of is not None and not EARLIEST_DAY <= week_of <= LATEST_DAY:
        raise ValidationFailedError(
            f"week_of must be a date between {EARLIEST_DAY} and {LATEST_DAY} (YYYY-MM-DD)",
            errors=[{"loc": ["query", "week_of"], "msg": "out of range"}],
        )
    report = await load_week(conn, patient=patient, week_of=week_of or _today(patient))
    pdf = render_pdf(report)
    name = f"report-{patient.id}-{report.first.isoformat()}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
