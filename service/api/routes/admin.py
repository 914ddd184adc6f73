"""Administration: care teams, their members and notification targets, users, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from service.accounts import Role, add_team_member, create_user, ensure_team, set_user_disabled
from service.api.deps import AppSettings, Conn, Page, paged
from service.api.problems import PROBLEM_RESPONSES
from service.audit import AuditEntry, AuditQuery, query_audit
from service.notify import TargetIn, TargetRecord, add_target, list_targets, set_target_active
from service.secretbox import secret_box

router = APIRouter(prefix="/v1", tags=["admin"], responses=PROBLEM_RESPONSES)


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "north"}]})

    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    id: UUID
    name: str


class MemberIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "0b6f6c1e-6a4b-4f43-9d8e-2f1f3c5a7b9d"}]},
    )

    user_id: UUID


class UserIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "nurse@clinic.example",
                    "password": "a long passphrase here",
                    "role": "clinician",
                    "team": "north",
                }
            ]
        },
    )

    # 320 characters: the longest address SMTP allows (RFC 5321 §4.5.3.1, 64 + 1 + 255).
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(max_length=256)
    role: Role
    team: str = Field(default="default", min_length=1, max_length=200)
    patient_id: UUID | None = None


class UserOut(BaseModel):
    id: UUID
    email: str
    role: str
    patient_id: UUID | None
    disabled_at: datetime | None
    team_ids: list[UUID]


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"disabled": True}]})

    disabled: bool


class TargetOut(BaseModel):
    target: TargetRecord
    secret: str | None = Field(
        description="the webhook signing secret, shown only in this response"
    )


@router.get("/teams")
async def teams(conn: Conn) -> list[TeamOut]:
    """Every care team."""
    cur = await conn.execute("SELECT id, name FROM care_teams ORDER BY name")
    return [TeamOut(id=r[0], name=r[1]) for r in await cur.fetchall()]


@router.post("/teams", status_code=201)
async def create_team(body: TeamIn, conn: Conn) -> TeamOut:
    """Create a care team (or return the existing one of that name)."""
    return TeamOut(id=await ensure_team(conn, body.name), name=body.name)


@router.post("/teams/{team_id}/members", status_code=204)
async def add_member(team_id: UUID, body: MemberIn, conn: Conn) -> None:
    """Add a user to a team."""
    await add_team_member(conn, team_id=team_id, user_id=body.user_id)


@router.get("/teams/{team_id}/notification-targets")
async def targets(team_id: UUID, conn: Conn) -> list[TargetRecord]:
    """Where the team's alerts are sent."""
    return await list_targets(conn, team_id=team_id)


@router.post("/teams/{team_id}/notification-targets", status_code=201)
async def create_target(
    team_id: UUID, body: TargetIn, conn: Conn, settings: AppSettings
) -> TargetOut:
    """Add a webhook (its HMAC secret is returned once, stored encrypted) or an e-mail address."""
    record, secret = await add_target(
        conn,
        team_id=team_id,
        target=body,
        box=secret_box(settings),
        smtp_configured=settings.smtp_host is not None,
        allow_private_webhooks=settings.webhook_allow_private_addresses,
    )
    return TargetOut(target=record, secret=secret)


class TargetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    active: bool


@router.patch("/teams/{team_id}/notification-targets/{target_id}")
async def patch_target(
    team_id: UUID, target_id: int, body: TargetPatch, conn: Conn
) -> TargetRecord:
    """Switch a target off (to rotate a webhook secret, add a new target first) or on."""
    return await set_target_active(conn, team_id=team_id, target_id=target_id, active=body.active)


_USER_SELECT = (
    "SELECT u.id, u.email, u.role, u.patient_id, u.disabled_at,"
    " coalesce(array_agg(m.team_id) FILTER (WHERE m.team_id IS NOT NULL), '{}')"
    " FROM users u LEFT JOIN team_members m ON m.user_id = u.id"
)


def _user(row: Any) -> UserOut:
    return UserOut(
        id=row[0],
        email=row[1],
        role=row[2],
        patient_id=row[3],
        disabled_at=row[4],
        team_ids=list(row[5]),
    )


@router.get("/users")
async def users(request: Request, response: Response, conn: Conn, page: Page) -> list[UserOut]:
    """Every login, by e-mail (paged)."""
    cur = await conn.execute(
        _USER_SELECT + " GROUP BY u.id ORDER BY lower(u.email), u.id LIMIT %s OFFSET %s",
        (page.fetch, page.offset),
    )
    return [_user(r) for r in paged(request, response, page, await cur.fetchall())]


@router.post("/users", status_code=201)
async def create_login(body: UserIn, conn: Conn) -> UserOut:
    """Create a login in a team (a patient login names its patient record)."""
    user_id = await create_user(
        conn,
        email=body.email,
        password=body.password,
        role=body.role,
        team=body.team,
        patient_id=body.patient_id,
    )
    cur = await conn.execute(_USER_SELECT + " WHERE u.id = %s GROUP BY u.id", (user_id,))
    return _user(await cur.fetchone())


@router.patch("/users/{user_id}")
async def patch_user(user_id: UUID, body: UserPatch, conn: Conn) -> UserOut:
    """Disable a login (its tokens are revoked at once) or enable it again."""
    await set_user_disabled(conn, user_id=user_id, disabled=body.disabled)
    cur = await conn.execute(_USER_SELECT + " WHERE u.id = %s GROUP BY u.id", (user_id,))
    return _user(await cur.fetchone())


@router.get("/audit")
async def audit(
    request: Request,
    response: Response,
    conn: Conn,
    page: Page,
    patient_id: UUID | None = None,
    actor_id: UUID | None = None,
    since: Annotated[datetime | None, Query()] = None,
) -> list[AuditEntry]:
    """The audit log, newest first, filtered by patient, actor and time (paged)."""
    rows = await query_audit(
        conn,
        AuditQuery(
            patient_id=patient_id,
            actor_id=actor_id,
            since=since,
            before_id=page.cursor,
            limit=page.fetch,
        ),
    )
    return paged(request, response, page, rows, cursor_of=lambda r: r.id)
