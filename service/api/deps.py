"""Request dependencies: a pooled connection, the authenticated principal or device."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.accounts import Principal, resolve_access_token
from service.errors import AuthenticationError
from service.patients.devices import DeviceIdentity, resolve_device_token
from service.settings import Settings

__all__ = ["AppSettings", "Conn", "CurrentDevice", "CurrentUser", "bearer_token"]

_oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    pool: AsyncConnectionPool[AsyncConnection[Any]] = request.app.state.pool
    async with pool.connection() as conn:
        yield conn


AppSettings = Annotated[Settings, Depends(_settings)]
Conn = Annotated[AsyncConnection[Any], Depends(_connection)]


def bearer_token(token: Annotated[str | None, Depends(_oauth2)]) -> str:
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    return token


async def _current_user(conn: Conn, token: Annotated[str, Depends(bearer_token)]) -> Principal:
    return await resolve_access_token(conn, token)


async def _current_device(
    conn: Conn, token: Annotated[str, Depends(bearer_token)]
) -> DeviceIdentity:
    return await resolve_device_token(conn, token)


CurrentUser = Annotated[Principal, Depends(_current_user)]
CurrentDevice = Annotated[DeviceIdentity, Depends(_current_device)]
