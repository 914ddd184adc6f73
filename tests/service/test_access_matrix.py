"""Access-control matrix generated from the app's route table.

Every patient-scoped route (a ``{patient_id}`` in its path) and every page route with a ``web_*``
policy is called by every kind of caller; the expected answer follows from the route's policy in
``service.api.access``. A new route is part of the matrix without anyone adding it here; one
that needs a body or a form fails until it has one below.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from psycopg import AsyncConnection

from service.accounts import issue_access_token
from service.alerts import alert_target, raise_alert
from service.api.access import PAGE_POLICIES, install_access_control, policy_of
from service.errors import ConfigurationError
from service.patients import add_device
from service.summaries import store_summary
from service.web._session import SESSION_COOKIE, csrf_for
from tests.fixtures.service import World, login
from tests.fixtures.summaries import day_summary

# Valid bodies of patient-scoped routes that take one, keyed by method and path template.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/v1/patients/{patient_id}"): {"hr_limit_bpm": 121},
    ("POST", "/v1/patients/{patient_id}/plan-overrides"): {
        "effective_from": "2026-05-20",
        "max_session_min": 20,
    },
    ("POST", "/v1/patients/{patient_id}/checkins"): {"pain_0_10": 2, "stretching_sessions": 2},
    ("PUT", "/v1/patients/{patient_id}/baseline"): {"steps_per_day": 6500, "source": "phone"},
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
        day = date.fromisoformat(ANALYSED_DAY)
        summary = day_summary(day, minutes=0, status="insufficient_data")
        await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
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
            if policy_of(method, path) in ("public", *PAGE_POLICIES):
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


# Valid forms of the page routes that take one (the CSRF token is added per caller).
#: Page routes that answer a document rather than a page when access is granted.
DOCUMENT_PAGES = {
    "/patients/{pid}/report.pdf": "application/pdf",
    "/patients/{pid}/days.csv": "text/csv",
}

FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/me/checkin"): {"pain_0_10": "2", "stretching_sessions": "1"},
    ("POST", "/patients/{pid}/alerts/{alert_id}/{verb}"): {"note": "called, resting"},
    ("POST", "/patients/{pid}/plan-overrides"): {
        "effective_from": "2026-05-20",
        "max_session_min": "20",
    },
    ("POST", "/patients/{pid}/settings"): {"hr_limit_bpm": "121"},
    # Uploads without a file go back to the page (tests/web/test_web_import.py posts files).
    ("POST", "/patients/{pid}/import"): {},
    ("POST", "/me/import"): {},
}

PAGE_CALLERS = (
    "anonymous",
    "expired",
    "revoked",
    "the_patient",
    "other_patient",
    "team_clinician",
    "other_clinician",
    "admin",
)
_PATIENTS = ("the_patient", "other_patient")


def expected_page(policy: str, method: str, caller: str) -> tuple[int, str | None]:
    """The status and the start of the ``Location`` a caller gets from a page (``None``: none)."""
    post = method == "POST"
    if caller in ("anonymous", "expired", "revoked"):
        # The login form keeping the post, or the way to it (and back).
        return (401, None) if post else (303, "/login")
    home = "/me" if caller in _PATIENTS else "/team"
    if policy == "web_user":
        return 303, home
    if policy == "web_clinician":
        return (303, "/me") if caller in _PATIENTS else (200, None)
    if policy == "web_patient_self":
        if caller not in _PATIENTS:
            return 303, "/team"
        return (303, "/me?sent=") if post else (200, None)
    assert policy == "web_care_team", policy
    if caller in ("other_patient", "other_clinician"):
        return 404, None
    if caller == "the_patient":
        return (403, None) if post else (303, "/me")
    return (303, "/patients/") if post else (200, None)


def expected_page_audit(policy: str, caller: str, status: int) -> list[str]:
    """Patient-scoped pages record one decision per logged-in call that reaches the patient."""
    if policy not in ("web_patient_self", "web_care_team"):
        return []
    if caller in ("anonymous", "expired", "revoked"):
        return []
    if policy == "web_patient_self" and caller not in _PATIENTS:
        return []  # sent to their own home page before any patient is read
    if policy == "web_care_team" and caller == "the_patient":
        return ["denied"]  # sent to their own view (a page) or refused (a form post)
    return ["denied"] if status in (403, 404) else ["allowed"]


def _page_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    found = []
    for ctx in iter_route_contexts(app.routes):
        for method in sorted(ctx.methods or ()):
            policy = policy_of(method, ctx.path or "")
            if policy in PAGE_POLICIES:
                found.append((method, ctx.path or "", policy))
    return found


async def _open_alert(world: World) -> int:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        target = await alert_target(conn, world.patient_id)
        assert target is not None
        await raise_alert(
            conn,
            target,
            rule="RED_FLAG_SYMPTOM",
            source="checkin",
            severity="urgent",
            day=date(2026, 5, 10),
            message="Red-flag symptoms reported: sharp pain",
            digest_interval_s=3600,
        )
        cur = await conn.execute("SELECT id FROM alerts WHERE patient_id = %s", (world.patient_id,))
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_every_page_answers_per_policy(world: World) -> None:
    app: FastAPI = world.client._transport.app  # type: ignore[attr-defined]
    routes = _page_routes(app)
    assert {policy for _, _, policy in routes} == PAGE_POLICIES, routes
    assert len(routes) >= 8, routes
    alert_id = await _open_alert(world)
    tokens = await _tokens(world)
    failures = []
    audit = await AsyncConnection.connect(world.db_url, autocommit=True)
    for method, path, policy in routes:
        url = path.format(pid=world.patient_id, alert_id=alert_id, verb="acknowledge")
        form = FORMS.get((method, path))
        if method == "POST" and form is None:
            failures.append(f"{method} {path}: add a valid form to FORMS")
            continue
        for caller in PAGE_CALLERS:
            await audit.execute(
                "UPDATE alerts SET state = 'open', acknowledged_at = NULL WHERE id = %s",
                (alert_id,),
            )
            token = tokens[caller]
            world.client.cookies.clear()
            if token is not None:
                world.client.cookies.set(SESSION_COOKIE, token)
            data = None if form is None else form | {"csrf": csrf_for(token) if token else ""}
            before = await _last_audit_id(audit)
            response = await world.client.request(method, url, data=data)
            status, location = expected_page(policy, method, caller)
            got = response.headers.get("location")
            if response.status_code != status or (
                location and not (got or "").startswith(location)
            ):
                failures.append(f"{method} {path} as {caller}: {response.status_code} {got}")
            if response.status_code != 303:
                # Refusals are pages; a granted document route answers its document.
                kind = (
                    DOCUMENT_PAGES.get(path, "text/html") if response.status_code == 200 else None
                )
                assert response.headers["content-type"].startswith(kind or "text/html"), (
                    path,
                    caller,
                )
            if caller in ("expired", "revoked"):
                assert "expired" in (got or response.text), (method, path, caller)
            recorded = await _access_entries(audit, after=before, action=f"{method} {path}")
            if recorded != expected_page_audit(policy, caller, response.status_code):
                failures.append(f"{method} {path} as {caller}: audit {recorded}")
    await audit.close()
    world.client.cookies.clear()
    assert not failures, "\n".join(failures)


async def test_a_page_post_without_the_sessions_csrf_token_is_refused_unread(world: World) -> None:
    """A live session's form post with a forged token: 403 before any patient is read."""
    app: FastAPI = world.client._transport.app  # type: ignore[attr-defined]
    alert_id = await _open_alert(world)
    world.client.cookies.set(SESSION_COOKIE, world.clinician_token)
    audit = await AsyncConnection.connect(world.db_url, autocommit=True)
    before = await _last_audit_id(audit)
    posts = [(m, p) for m, p, _ in _page_routes(app) if m == "POST"]
    assert posts
    for method, path in posts:
        url = path.format(pid=world.patient_id, alert_id=alert_id, verb="acknowledge")
        response = await world.client.post(url, data=FORMS[(method, path)] | {"csrf": "forged"})
        assert response.status_code == 403, (path, response.status_code)
        assert "did not come from this site" in response.text
    cur = await audit.execute("SELECT count(*) FROM audit_log WHERE id > %s", (before,))
    assert await cur.fetchone() == (0,)
    await audit.close()
    world.client.cookies.clear()


def test_a_page_without_an_access_rule_stops_the_app() -> None:
    app = FastAPI()

    @app.get("/patients/{patient_id}/report")
    async def report() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigurationError, match=re.escape("GET /patients/{patient_id}/report")):
        install_access_control(app)


def test_new_pages_under_a_patient_fall_under_the_care_team_rule() -> None:
    for method in ("GET", "POST"):
        assert policy_of(method, "/patients/{pid}/report") == "web_care_team"
        assert policy_of(method, "/me/anything") == "web_patient_self"
    assert policy_of("GET", "/team") == "web_clinician"
    assert policy_of("GET", "/") == "web_user"
