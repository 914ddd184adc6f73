"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import Response

from service.api.problems import install_problem_handlers
from service.api.routes import auth, days, ingest, patients
from service.db import make_pool
from service.errors import ConfigurationError
from service.settings import Settings
from service.worker import Worker

__all__ = ["create_app"]

log = logging.getLogger(__name__)

API_DESCRIPTION = """
Rehab Monitor: home activity monitoring after spine surgery.

* Home hubs upload samples with a **device token** (`POST /v1/ingest`).
* Care teams and patients log in with the OAuth2 password flow (`POST /v1/auth/token`) and read
  patients and daily summaries with the returned **bearer token**.
* Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``; its lifespan opens the pool and starts the worker."""
    if settings.database_url is None:
        raise ConfigurationError(
            "create_app needs settings.database_url; resolve the embedded database at the "
            "entry point (service.db.resolve_database_url)"
        )
    url = settings.database_url.get_secret_value()
    pool = make_pool(url, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        worker = Worker(pool, url, poll_s=settings.worker_poll_s) if settings.run_worker else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await pool.close()

    app = FastAPI(
        title="Rehab Monitor",
        version="1",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.pool = pool
    install_problem_handlers(app)
    app.include_router(auth.router)
    app.include_router(ingest.router)
    app.include_router(patients.router)
    app.include_router(days.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Response:
        """Liveness and database reachability."""
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
