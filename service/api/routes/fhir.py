"""FHIR R4 export: ``GET /v1/patients/{id}/fhir`` (the care team's; audited by the access table)."""

from __future__ import annotations

from uuid import UUID

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from service.api.deps import ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.api.routes.days import ServedRangeQuery
from service.fhir import FHIR_JSON, build_bundle
from service.summaries import served_day_record

router = APIRouter(prefix="/v1/patients", tags=["export"], responses=PROBLEM_RESPONSES)

_DOC = """
A FHIR R4 `Bundle` (type `collection`) with the `Patient` and one `Observation` per measure and
patient-local day of `from` … `to` (default the last 30 days; at most 366): steps per day (LOINC
41950-7, `/d`) and exercise minutes per day (55411-3, `min/d`) of judged days, the day's resting
heart rate (40443-4, `/min`, when measured that day) and maximum heart rate (8873-2, `/min`) of
complete days. Identifiers are stable, so a repeated export updates rather than duplicates."""


@router.get(
    "/{patient_id}/fhir",
    description=_DOC,
    responses={200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 collection Bundle"}},
    response_class=Response,
)
async def fhir_bundle(
    patient_id: UUID, patient: ScopedPatient, served: ServedRangeQuery
) -> Response:
    """The patient's daily Observations as a FHIR R4 Bundle."""
    bundle = build_bundle(patient=patient, days=[served_day_record(d) for d in served.days])
    return Response(orjson.dumps(bundle), media_type=FHIR_JSON)
