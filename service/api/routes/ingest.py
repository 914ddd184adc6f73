"""``POST /v1/ingest``: samples from a paired home hub (contract: service/ingest/WIRE_FORMAT.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from service.api.deps import AppSettings, Conn, CurrentDevice
from service.api.problems import PROBLEM_RESPONSES
from service.errors import PayloadTooLargeError
from service.ingest import parse_batch, store_batch

router = APIRouter(prefix="/v1", tags=["ingest"], responses=PROBLEM_RESPONSES)

_EXAMPLE = {
    "batch_id": "6f1c2b8e-3d4f-4a5b-9c6d-7e8f9a0b1c2d",
    "samples": [
        {"kind": "heart_rate", "t": "2026-05-10T09:00:01.250Z", "bpm": 88, "rr_s": [0.68, 0.69]},
        {"kind": "steps", "t": "2026-05-10T09:01:00Z", "steps": 104, "interval_s": 60},
        {"kind": "cadence", "t": "2026-05-10T09:00:30Z", "spm": 104},
        {"kind": "bike", "t": "2026-05-10T17:00:01Z", "rpm": 62, "power_w": 45},
    ],
}


class IngestOut(BaseModel):
    accepted: int
    duplicates: int


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body is over the {limit}-byte limit", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLargeError(f"the body is over the {limit}-byte limit", limit=limit)
    return bytes(body)


@router.post(
    "/ingest",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"example": _EXAMPLE}},
        }
    },
    responses={413: PROBLEM_RESPONSES[422] | {"description": "Batch too large"}},
)
async def ingest(
    request: Request, device: CurrentDevice, conn: Conn, settings: AppSettings
) -> IngestOut:
    """Store a batch of samples from the calling device; re-sent samples count as duplicates."""
    body = await _read_body(request, settings.ingest_max_body_bytes)
    batch = parse_batch(body, now=datetime.now(UTC), max_samples=settings.ingest_max_samples)
    result = await store_batch(
        conn,
        device_id=device.device_id,
        patient_id=device.patient_id,
        tz=device.tz,
        batch=batch,
        conflict_retries=settings.ingest_conflict_retries,
    )
    return IngestOut(accepted=result.accepted, duplicates=result.duplicates)
