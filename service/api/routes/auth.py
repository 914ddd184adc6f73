"""Login, logout and password change with the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from service.accounts import (
    change_password,
    issue_access_token,
    login_candidate,
    revoke_access_token,
    verify_login,
)
from service.api.deps import AppSettings, Conn, CurrentUser, RequestConnections, bearer_token
from service.api.problems import PROBLEM_RESPONSES
from service.auth.throttle import LoginLimits, check_login_allowed, clear_failures, record_failure
from service.errors import AuthenticationError

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class MeOut(BaseModel):
    user_id: str
    email: str
    role: str
    patient_id: str | None
    team_ids: list[str] = []


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "current_password": "correct horse battery",
                    "new_password": "staple battery horse correct",
                }
            ]
        },
    )

    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


def client_address(request: Request) -> str:
    """The peer address (behind a reverse proxy, configure uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def login_limits(settings: AppSettings) -> LoginLimits:
    return LoginLimits(
        window_s=settings.login_window_s,
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
    )


@router.post("/token", responses={429: PROBLEM_RESPONSES[401] | {"description": "Throttled"}})
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    connections: RequestConnections,
    settings: AppSettings,
) -> TokenOut:
    """Exchange e-mail (as ``username``) and password for a short-lived bearer token."""
    address = client_address(request)
    conn = await connections.get()
    await check_login_allowed(
        conn, email=form.username, address=address, limits=login_limits(settings)
    )
    candidate = await login_candidate(conn, email=form.username)
    # The attempt is counted and committed; argon2 runs without holding a pool connection.
    await connections.release()
    try:
        user_id = await verify_login(candidate, password=form.password)
    except AuthenticationError:
        await record_failure(await connections.get(), email=form.username, address=address)
        raise
    conn = await connections.get()
    await clear_failures(conn, email=form.username)
    token, _ = await issue_access_token(conn, user_id=user_id, ttl_s=settings.access_token_ttl_s)
    return TokenOut(access_token=token, expires_in=settings.access_token_ttl_s)


@router.post("/logout", status_code=204)
async def logout(
    conn: Conn, user: CurrentUser, token: Annotated[str, Depends(bearer_token)]
) -> None:
    """Revoke the bearer token used for this request."""
    await revoke_access_token(conn, token)


@router.post("/password", status_code=204)
async def password(body: PasswordChangeIn, conn: Conn, user: CurrentUser) -> None:
    """Change the caller's password; every token of the caller is revoked (log in again)."""
    await change_password(
        conn,
        user_id=user.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.get("/me")
async def me(user: CurrentUser) -> MeOut:
    """The authenticated user."""
    return MeOut(
        user_id=str(user.user_id),
        email=user.email,
        role=user.role,
        patient_id=str(user.patient_id) if user.patient_id else None,
        team_ids=[str(t) for t in user.team_ids],
    )
