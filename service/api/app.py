"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response

from service.alerts import AlertWatch
from service.api.access import enforce_access, install_access_control
from service.api.limits import BodyLimitMiddleware
from service.api.problems import install_problem_handlers
from service.api.routes import (
    admin,
    alerts,
    auth,
    checkins,
    days,
    ingest,
    patient_devices,
    patients,
)
from service.db import make_pool
from service.errors import ConfigurationError
from service.notify import Notifier
from service.settings import Settings
from service.web import router as web_router
from service.worker import Worker

__all__ = ["create_app"]

log = logging.getLogger(__name__)

API_DESCRIPTION = """
Rehab Monitor: home activity monitoring after spine surgery.

* Home hubs pair with a one-time enrollment code (`POST /v1/devices/enroll`) and upload samples
  with the returned **device token** (`POST /v1/ingest`).
* Care teams and patients log in with the OAuth2 password flow (`POST /v1/auth/token`) and use the
  returned short-lived **bearer token**. Clinicians see their teams' patients, a patient only their
  own record; another team's patient answers 404.
* Lists are paged with `limit` and `cursor`; the next page is in the `Link: rel="next"` header.
* Errors are `application/problem+json` (RFC 9457).
"""

# Ingest checks its own, larger body limit (REHAB_INGEST_MAX_BODY_BYTES).
_OWN_BODY_LIMIT = ("/v1/ingest",)


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``; its lifespan opens the pool, the worker and the notifier."""
    if settings.database_url is None:
        raise ConfigurationError(
            "create_app needs settings.database_url; resolve the embedded database at the "
            "entry point (service.db.resolve_database_url)"
        )
    url = settings.database_url.get_secret_value()
    pool = make_pool(url, settings)
    notifier = Notifier(pool, settings, checks=(AlertWatch(settings),))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        worker = Worker(pool, url, poll_s=settings.worker_poll_s) if settings.run_worker else None
        if worker is not None:
            worker.start()
        if settings.run_notifier:
            notifier.start()
        try:
            yield
        finally:
            await notifier.stop()
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
        dependencies=[Depends(enforce_access)],
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.notifier = notifier
    install_problem_handlers(app)
    for module in (auth, ingest, patients, days, checkins, patient_devices, alerts, admin):
        app.include_router(module.router)
    app.include_router(web_router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Response:
        """Liveness and database reachability."""
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return Response(b'{"status":"ok"}', media_type="application/json")

    install_access_control(app)
    app.add_middleware(
        BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes, exempt_paths=_OWN_BODY_LIMIT
    )
    if settings.cors_origins:
        # Off unless configured: the API is for the service's own pages and the home hubs.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
