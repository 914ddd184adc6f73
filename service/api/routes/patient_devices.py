"""Pairing home hubs: enrollment codes, enrollment, device status and revocation."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import AppSettings, Conn, CurrentDevice, CurrentUser, ScopedPatient
from service.api.problems import PROBLEM_RESPONSES
from service.api.routes.auth import client_address, login_limits
from service.audit import record_event
from service.auth.throttle import check_login_allowed, clear_failures, record_failure
from service.errors import AuthenticationError
from service.patients import (
    DeviceRecord,
    issue_enrollment_code,
    list_devices,
    redeem,
    report_status,
    revoke_device,
)

router = APIRouter(prefix="/v1", tags=["devices"], responses=PROBLEM_RESPONSES)


class EnrollmentCodeOut(BaseModel):
    code: str = Field(examples=["7KQ2-M9XD-4FHT"])
    expires_at: datetime


class EnrollIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "7KQ2-M9XD-4FHT", "name": "living-room hub"}]},
    )

    # 12 symbols with separators and spaces fit in 40 characters (service.patients.enrollment).
    code: str = Field(min_length=4, max_length=40)
    name: str = Field(default="home hub", min_length=1, max_length=200)


class EnrollOut(BaseModel):
    device_id: UUID
    token: str


class DeviceStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"battery_pct": 64}]})

    battery_pct: int | None = Field(default=None, ge=0, le=100)


@router.post("/patients/{patient_id}/enrollment-codes", status_code=201)
async def enrollment_code(
    patient_id: UUID, patient: ScopedPatient, conn: Conn, user: CurrentUser, settings: AppSettings
) -> EnrollmentCodeOut:
    """Issue a one-time code a home hub redeems at ``POST /v1/devices/enroll``."""
    issued = await issue_enrollment_code(
        conn, patient_id=patient.id, by=user.user_id, ttl_s=settings.enrollment_code_ttl_s
    )
    return EnrollmentCodeOut(code=issued.code, expires_at=issued.expires_at)


@router.post("/devices/enroll", status_code=201)
async def enroll(request: Request, body: EnrollIn, conn: Conn, settings: AppSettings) -> EnrollOut:
    """Redeem an enrollment code for a device token (shown once; only its hash is stored)."""
    address = client_address(request)
    # Codes are guessed from an address, not an account: throttle per address on both counters.
    key = f"enroll:{address}"
    await check_login_allowed(conn, email=key, address=address, limits=login_limits(settings))
    try:
        device_id, patient_id, token = await redeem(conn, code=body.code, name=body.name)
    except AuthenticationError:
        await record_failure(conn, email=key, address=address)
        raise
    await clear_failures(conn, email=key)
    await record_event(
        conn, actor_kind="device", actor_id=device_id, action="enroll", patient_id=patient_id
    )
    return EnrollOut(device_id=device_id, token=token)


@router.post("/devices/status", status_code=204)
async def device_status(body: DeviceStatusIn, device: CurrentDevice, conn: Conn) -> None:
    """The hub's heartbeat: marks it seen now and records the band's battery level."""
    await report_status(conn, device_id=device.device_id, battery_pct=body.battery_pct)


@router.get("/patients/{patient_id}/devices")
async def devices(patient_id: UUID, patient: ScopedPatient, conn: Conn) -> list[DeviceRecord]:
    """The patient's devices with last-seen time and battery level."""
    return await list_devices(conn, patient_id=patient.id)


@router.post("/patients/{patient_id}/devices/{device_id}/revoke", status_code=204)
async def revoke(patient_id: UUID, device_id: UUID, patient: ScopedPatient, conn: Conn) -> None:
    """Revoke a device token at once (a lost or replaced hub)."""
    await revoke_device(conn, patient_id=patient.id, device_id=device_id)
