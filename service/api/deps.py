"""Request dependencies: a pooled connection, the authenticated caller, the scoped patient, paging.

Authentication and the access policy run once per request in the app-wide dependency
(``service.api.access.enforce_access``); the dependencies here hand its results to handlers.
They are all ``async def``: FastAPI runs a plain ``def`` dependency in a worker thread, a thread
hand-off per request for what is an attribute read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.accounts import Principal, resolve_access_token
from service.errors import AuthenticationError
from service.patients.devices import DeviceIdentity, resolve_device_token
from service.patients.store import PatientRecord
from service.settings import Settings

__all__ = [
    "AppSettings",
    "Conn",
    "Connections",
    "CurrentDevice",
    "CurrentUser",
    "Page",
    "PageUser",
    "RequestConnections",
    "ScopedPatient",
    "bearer_token",
    "paged",
    "set_next_link",
]

_Row = TypeVar("_Row")

_oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)

# Tunable defaults: list pages of 50 rows, at most 200 per request.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Cursors are row ids or offsets, PostgreSQL bigints: 2**62 leaves room for cursor + page size
# below the bigint maximum (2**63 - 1), so no cursor overflows a query parameter.
MAX_CURSOR = 2**62


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class Connections:
    """The request's pooled connection, checked out on first use and returned at the end.

    A route that needs no database (a public page, a static file) never takes a connection from
    the pool, and a route that does slow work without the database in between (password hashing
    at login) can hand its connection back with :meth:`release` and take one again later, so that
    such work never holds a pool slot (40 concurrent logins once left none for ``/healthz``).
    """

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool
        self._scope: Any = None
        self._conn: AsyncConnection[Any] | None = None

    async def get(self) -> AsyncConnection[Any]:
        """The request's connection (checked out now if it is not yet)."""
        if self._conn is None:
            scope = self._pool.connection()
            self._conn = await scope.__aenter__()
            self._scope = scope
        return self._conn

    async def release(self, exc: BaseException | None = None) -> None:
        """Commit (or, after ``exc``, roll back) and return the connection to the pool."""
        scope, self._scope, self._conn = self._scope, None, None
        if scope is not None:
            await scope.__aexit__(
                type(exc) if exc else None, exc, exc.__traceback__ if exc else None
            )


async def _connections(request: Request) -> AsyncIterator[Connections]:
    connections = Connections(request.app.state.pool)
    try:
        yield connections
    except BaseException as exc:
        await connections.release(exc)
        raise
    await connections.release()


async def _connection(
    connections: Annotated[Connections, Depends(_connections)],
) -> AsyncConnection[Any]:
    return await connections.get()


AppSettings = Annotated[Settings, Depends(_settings)]
Conn = Annotated[AsyncConnection[Any], Depends(_connection)]
RequestConnections = Annotated[Connections, Depends(_connections)]


async def bearer_token(token: Annotated[str | None, Depends(_oauth2)]) -> str:
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    return token


async def _current_user(
    request: Request, conn: Conn, token: Annotated[str, Depends(bearer_token)]
) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal if principal is not None else await resolve_access_token(conn, token)


async def _current_device(
    request: Request, conn: Conn, token: Annotated[str, Depends(bearer_token)]
) -> DeviceIdentity:
    device: DeviceIdentity | None = getattr(request.state, "device", None)
    return device if device is not None else await resolve_device_token(conn, token)


async def _page_user(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


async def _scoped_patient(request: Request) -> PatientRecord:
    patient: PatientRecord = request.state.patient
    return patient


CurrentUser = Annotated[Principal, Depends(_current_user)]
CurrentDevice = Annotated[DeviceIdentity, Depends(_current_device)]
ScopedPatient = Annotated[PatientRecord, Depends(_scoped_patient)]
"""The patient named in the path (a patient's own page: theirs), checked against the route's policy."""
PageUser = Annotated[Principal, Depends(_page_user)]
"""A page's user: the session cookie's, already checked against the route's ``web_*`` policy."""


@dataclass(frozen=True)
class PageParams:
    """A list page's size and cursor (a row id or an offset, as the route pages)."""

    limit: int
    cursor: int | None

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, which says whether a next page exists."""
        return self.limit + 1

    @property
    def offset(self) -> int:
        """The cursor of a route paged by offset (0 on the first page)."""
        return self.cursor or 0


async def _page(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        int | None,
        Query(ge=0, le=MAX_CURSOR, description="from the previous page's Link: rel=next"),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


Page = Annotated[PageParams, Depends(_page)]


def paged(
    request: Request,
    response: Response,
    page: PageParams,
    rows: Sequence[_Row],
    *,
    cursor_of: Callable[[_Row], int] | None = None,
) -> list[_Row]:
    """The page of ``rows`` (read with ``limit=page.fetch``), pointing ``Link: rel=next`` at the
    next page when there is one: ``cursor_of`` the page's last row (keyset paging), or without
    it the next offset."""
    kept = list(rows[: page.limit])
    cursor: int | None = None
    if len(rows) > page.limit:
        cursor = cursor_of(kept[-1]) if cursor_of is not None else page.offset + page.limit
    set_next_link(request, response, cursor=cursor)
    return kept


def set_next_link(request: Request, response: Response, *, cursor: int | None) -> None:
    """Point ``Link: <…>; rel="next"`` (RFC 8288) at the next page when there is one."""
    if cursor is None:
        return
    url = request.url.include_query_params(cursor=cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'
