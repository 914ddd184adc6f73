"""Access-control matrix generated from the app's route table.

Every patient-scoped route (a ``{patient_id}`` in its path) is called by every kind of caller; the
expected status follows from the route's policy in ``service.api.access``. A new route is part of
the matrix without anyone adding it here; one that needs a body fails until it has one below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from psycopg import AsyncConnection

from service.accounts import issue_access_token
from service.api.access import install_access_control, policy_of
from service.errors import ConfigurationError
from service.patients import add_device
from tests.fixtures.service import World, login

# Valid bodies of patient-scoped routes that take one, keyed by method and path template.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/v1/patients/{patient_id}"): {"hr_limit_bpm": 121},
    ("POST", "/v1/patients/{patient_id}/plan-overrides"): {
        "effective_from": "2026-05-20",
        "max_session_min": 20,
    },
    ("POST", "/v1/patients/{patient_id}/checkins"): {"pain_0_10": 2, "stretching_sessions": 2},
}

ANALYSED_DAY = "2026-05-10"

CALLERS = (
    "team_clinician",
    "other_clinician",
    "admin",
    "the_patient",
    "other_patient",
    "device",
    "anonymous",
    "revoked",
    "expired",
)


def expected(policy: str, caller: str) -> set[int]:
    """Statuses a caller may get; 2xx is written as 200 and 201/204 accepted alongside."""
    ok = {200, 201, 204}
    if caller in ("device", "anonymous", "revoked", "expired"):
        return {401}
    if caller in ("team_clinician", "admin"):
        return ok
    if caller in ("other_clinician", "other_patient"):
        return {404}
    assert caller == "the_patient"
    return ok if policy == "patient" else {403}


def _patient_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found: list[tuple[str, str, APIRoute]] = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute) or "{patient_id}" not in (ctx.path or ""):
            continue
        found.extend((method, ctx.path or "", route) for method in sorted(ctx.methods or ()))
    return found


async def _tokens(world: World) -> dict[str, str | None]:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT id FROM users WHERE email = 'nurse@north.example'")
        row = await cur.fetchone()
        assert row is not None
        expired, _ = await issue_access_token(
            conn, user_id=row[0], ttl_s=60, now=datetime.now(UTC) - timedelta(hours=2)
        )
    revoked = await login(world.client, "nurse@north.example")
    response = await world.client.post("/v1/auth/logout", headers=world.auth(revoked))
    assert response.status_code == 204
    return {
        "team_clinician": world.clinician_token,
        "other_clinician": world.other_clinician_token,
        "admin": world.admin_token,
        "the_patient": world.patient_token,
        "other_patient": world.other_patient_token,
        "device": world.device_token,
        "anonymous": None,
        "revoked": revoked,
        "expired": expired,
    }


async def test_every_patient_scoped_route_answers_per_policy(world: World) -> None:
    app: FastAPI = world.client._transport.app  # type: ignore[attr-defined]
    routes = _patient_routes(app)
    assert len(routes) >= 10, routes
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        # A second device, so that revoking it does not disturb the device token under test.
        spare_device, _ = await add_device(conn, patient_id=world.patient_id, name="spare")
        # One analysed day, so that single-day routes have something to answer with.
        await conn.execute(
            "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
            " status, summary, analysis_version) VALUES (%s, %s, 0, 0, 0, 'insufficient_data',"
            " %s::jsonb, 'test')",
            (world.patient_id, ANALYSED_DAY, '{"date": "2026-05-10", "flags": []}'),
        )
    tokens = await _tokens(world)
    failures = []
    audit = await AsyncConnection.connect(world.db_url, autocommit=True)
    for method, path, route in routes:
        policy = policy_of(method, path)
        assert policy in ("patient", "care_team"), (method, path, policy)
        url = path.format(patient_id=world.patient_id, device_id=spare_device, day=ANALYSED_DAY)
        body = BODIES.get((method, path))
        if route.body_field is not None and body is None:
            failures.append(f"{method} {path}: add a valid body to BODIES")
            continue
        for caller in CALLERS:
            token = tokens[caller]
            headers = world.auth(token) if token else {}
            before = await _last_audit_id(audit)
            response = await world.client.request(method, url, json=body, headers=headers)
            if response.status_code not in expected(policy, caller):
                failures.append(f"{method} {path} as {caller}: {response.status_code}")
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
            recorded = await _access_entries(audit, after=before, action=f"{method} {path}")
            if recorded != _expected_entries(response.status_code):
                failures.append(f"{method} {path} as {caller}: audit {recorded}")
    await audit.close()
    assert not failures, "\n".join(failures)


async def _last_audit_id(conn: AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT coalesce(max(id), 0) FROM audit_log")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _access_entries(conn: AsyncConnection[Any], *, after: int, action: str) -> list[str]:
    cur = await conn.execute(
        "SELECT outcome FROM audit_log WHERE id > %s AND actor_kind = 'user' AND action = %s",
        (after, action),
    )
    return [row[0] for row in await cur.fetchall()]


def _expected_entries(status: int) -> list[str]:
    """One decision per authenticated call on the patient: allowed, or denied (403/404)."""
    if status == 401:
        return []
    return ["denied"] if status in (403, 404) else ["allowed"]


async def test_unknown_patient_is_404_like_another_teams(world: World) -> None:
    for path in ("/v1/patients/{}", "/v1/patients/{}/days"):
        for pid in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", world.other_patient_id):
            response = await world.client.get(
                path.format(pid), headers=world.auth(world.clinician_token)
            )
            assert response.status_code in (404, 422), (path, pid)
            assert response.status_code == 404 or pid == "not-a-uuid"


async def test_every_non_public_route_needs_credentials(world: World) -> None:
    app: FastAPI = world.client._transport.app  # type: ignore[attr-defined]
    checked = 0
    for ctx in iter_route_contexts(app.routes):
        for method in ctx.methods or ():
            path = ctx.path or ""
            if policy_of(method, path) == "public":
                continue
            url = path.replace("{patient_id}", str(world.patient_id))
            url = url.replace("{team_id}", str(world.team_id)).replace("{alert_id}", "1")
            url = url.replace("{user_id}", str(world.patient_id)).replace("{device_id}", "x")
            response = await world.client.request(method, url)
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 20


async def test_admin_routes_refuse_clinicians_and_patients(world: World) -> None:
    for token in (world.clinician_token, world.patient_token):
        for path in ("/v1/teams", "/v1/users", "/v1/audit"):
            response = await world.client.get(path, headers=world.auth(token))
            assert response.status_code == 403, path
    response = await world.client.get("/v1/users", headers=world.auth(world.admin_token))
    assert response.status_code == 200


def test_a_route_without_an_access_rule_stops_the_app() -> None:
    app = FastAPI()

    @app.get("/v1/secret-report")
    async def report() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigurationError, match="GET /v1/secret-report"):
        install_access_control(app)
