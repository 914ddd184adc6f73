"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.alerts import AlertWatch
from service.api.access import enforce_access, install_access_control
from service.api.limits import BodyLimitMiddleware, InputGuardMiddleware
from service.api.problems import (
    PROBLEM_RESPONSES,
    UNAVAILABLE_RESPONSE,
    UNSUPPORTED_MEDIA_RESPONSE,
    install_problem_handlers,
    problem_response,
    scrubbed_traceback,
)
from service.api.routes import (
    admin,
    alerts,
    auth,
    checkins,
    days,
    exports,
    fhir,
    ingest,
    patient_devices,
    patients,
    report,
    trajectory,
)
from service.api.routes import worker as worker_admin
from service.db import make_pool
from service.errors import RETRY_AFTER_UNAVAILABLE_S, ConfigurationError
from service.notify import Notifier
from service.settings import Settings
from service.web import router as web_router
from service.worker import Worker, WorkerOptions

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
* Errors are `application/problem+json` (RFC 9457). Every operation may answer 503 with
  `Retry-After` while the database is unavailable; every operation with a body answers 415 to a
  body in another content type and 422 to text containing NUL characters.
"""

# Ingest checks its own, larger body limit (REHAB_INGEST_MAX_BODY_BYTES).
_OWN_BODY_LIMIT = ("/v1/ingest",)
# /healthz answers within 2 s (tunable default; load balancers commonly time out at 2-5 s).
HEALTH_TIMEOUT_S = 1.5


class CatchAllMiddleware:
    """The last line: an error no handler took is logged without database text and answers 500.

    Starlette's own last-resort handler re-raises, so the server would log the exception with its
    message (and a database error's DETAIL); this one logs :func:`scrubbed_traceback` only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error(
                "unhandled error on %s %s\n%s",
                scope.get("method"),
                scope.get("path"),
                scrubbed_traceback(exc),
            )
            if started:
                return
            response = problem_response(
                500,
                "Internal error",
                "the service failed to handle the request; it has been logged",
                code="internal_error",
            )
            await response(scope, receive, send)


# 409 answers of routes whose decorators do not list them (a state or a unique value conflicts).
_CONFLICTS = {
    ("post", "/v1/alerts/{alert_id}/acknowledge"): "The alert is neither open nor cleared",
    ("post", "/v1/alerts/{alert_id}/resolve"): "The alert is already resolved",
    ("post", "/v1/users"): "A user with this e-mail already exists",
    ("post", "/v1/patients"): "Another patient of the team has this record number",
    ("patch", "/v1/patients/{patient_id}"): "Another patient of the team has this record number",
}


def _document_common_answers(app: FastAPI) -> None:
    """Add the answers routes give beyond their decorators to the OpenAPI document.

    503 (database unavailable, with ``Retry-After``) on every operation, 415 on every operation
    with a body, and the 409s of :data:`_CONFLICTS`.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                operation["responses"].setdefault("503", UNAVAILABLE_RESPONSE)
                if (method, path) in _CONFLICTS:
                    conflict = PROBLEM_RESPONSES[422] | {"description": _CONFLICTS[method, path]}
                    operation["responses"].setdefault("409", conflict)
                if "requestBody" in operation:
                    operation["responses"].setdefault("415", UNSUPPORTED_MEDIA_RESPONSE)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


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
        worker = (
            Worker(pool, url, options=WorkerOptions.from_settings(settings))
            if settings.run_worker
            else None
        )
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
    for module in (
        auth,
        ingest,
        patients,
        days,
        exports,
        fhir,
        report,
        trajectory,
        checkins,
        patient_devices,
        alerts,
        admin,
        worker_admin,
    ):
        app.include_router(module.router)
    app.include_router(web_router)

    @app.get(
        "/healthz",
        tags=["health"],
        responses={503: UNAVAILABLE_RESPONSE | {"description": "The database is unreachable"}},
    )
    async def healthz() -> Response:
        """Liveness and database reachability, answered within 2 s (503 when unreachable)."""
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                async with pool.connection(timeout=HEALTH_TIMEOUT_S) as conn:
                    await conn.execute("SELECT 1")
        except (TimeoutError, psycopg.Error):
            return problem_response(
                503,
                "Database unavailable",
                "the database is unreachable",
                code="database_unavailable",
                headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
            )
        return Response(b'{"status":"ok"}', media_type="application/json")

    install_access_control(app)
    _document_common_answers(app)
    app.add_middleware(
        InputGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        own_limits=dict.fromkeys(_OWN_BODY_LIMIT, settings.ingest_max_body_bytes),
    )
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
    app.add_middleware(CatchAllMiddleware)
    return app
