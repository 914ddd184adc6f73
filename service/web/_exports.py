"""The clinic report and the days as CSV from the patient page, with the page's own session.

The API routes (``GET /v1/patients/{id}/report`` and ``…/days.csv``) take a bearer token; these
page routes answer the same documents for a clinician browsing the patient page. The access
table's ``web_care_team`` rule covers ``/patients/{pid}/…`` (session, patient, audit entry), and
the documents are built by the API's own handlers, so both paths give the same bytes.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from starlette.responses import Response

from service.api.deps import Conn, PageUser, ScopedPatient
from service.api.routes.days import ServedRangeQuery
from service.api.routes.exports import days_csv
from service.api.routes.report import weekly_report
from service.web._html import Html, el

__all__ = ["export_links", "router"]

router = APIRouter(include_in_schema=False)


@router.get("/patients/{pid}/report.pdf")
async def report_pdf(
    pid: UUID, conn: Conn, user: PageUser, patient: ScopedPatient, week_of: date | None = None
) -> Response:
    """The weekly clinic report (PDF) of the week since surgery containing ``week_of``."""
    return await weekly_report(patient.id, patient, conn, week_of)


@router.get("/patients/{pid}/days.csv")
async def days_as_csv(
    pid: UUID, user: PageUser, patient: ScopedPatient, served: ServedRangeQuery
) -> Response:
    """The patient's days ``from`` … ``to`` as CSV (default: the last 30 days)."""
    return await days_csv(patient.id, patient, served)


def export_links(patient_id: str) -> Html:
    """Links to this week's clinic report and the last 30 days as CSV."""
    return el(
        "p",
        el("a", "This week's clinic report (PDF)", href=f"/patients/{patient_id}/report.pdf"),
        " · ",
        el("a", "Last 30 days as CSV", href=f"/patients/{patient_id}/days.csv"),
        class_="exports",
    )
