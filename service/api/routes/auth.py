"""Login and logout with the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from service.accounts import authenticate, issue_access_token, revoke_access_token
from service.api.deps import AppSettings, Conn, CurrentUser, bearer_token
from service.api.problems import PROBLEM_RESPONSES

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


@router.post("/token")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: Conn, settings: AppSettings
) -> TokenOut:
    """Exchange e-mail (as ``username``) and password for a short-lived bearer token."""
    user_id = await authenticate(conn, email=form.username, password=form.password)
    token, _ = await issue_access_token(conn, user_id=user_id, ttl_s=settings.access_token_ttl_s)
    return TokenOut(access_token=token, expires_in=settings.access_token_ttl_s)


@router.post("/logout", status_code=204)
async def logout(
    conn: Conn, user: CurrentUser, token: Annotated[str, Depends(bearer_token)]
) -> None:
    """Revoke the bearer token used for this request."""
    await revoke_access_token(conn, token)


@router.get("/me")
async def me(user: CurrentUser) -> MeOut:
    """The authenticated user."""
    return MeOut(
        user_id=str(user.user_id),
        email=user.email,
        role=user.role,
        patient_id=str(user.patient_id) if user.patient_id else None,
    )
