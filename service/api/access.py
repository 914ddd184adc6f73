"""Access control generated from the route table.

Every route of the app has exactly one access policy, looked up from its method and path template
(:data:`RULES`, first match wins). :func:`install_access_control` refuses to build an app with a
route no rule covers, and one app-wide dependency, :func:`enforce_access`, authenticates the caller
and applies the policy before any handler runs. Patient-scoped policies load the patient named in
the path and answer 404 for a patient the caller may not see (no existence leak); every decision
on patient data goes to the audit log.

The web pages (``service.web``) are rows of the same table with ``web_*`` policies: the caller is
the session cookie's user instead of a bearer token, a form post must carry the session's CSRF
token, and a refusal answers as a page does (``service.web._refusals``: the login form instead
of 401, the user's own home page for another role's page, an HTML error page otherwise). A
handler takes the checked caller and patient as dependencies (``service.api.deps.PageUser``,
``ScopedPatient``) and checks nothing itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from psycopg import AsyncConnection

from service.accounts import Principal, resolve_access_token
from service.api.deps import RequestConnections
from service.audit import record_event
from service.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
)
from service.patients.access import check_patient_access
from service.patients.devices import DeviceIdentity, resolve_device_token
from service.web._refusals import (
    PageAnswer,
    answer_page,
    login_required,
    page_refused,
    sent_home,
)
from service.web._session import check_csrf, principal_or_none

__all__ = [
    "PAGE_POLICIES",
    "PATIENT_POLICIES",
    "RULES",
    "Policy",
    "enforce_access",
    "install_access_control",
    "policy_of",
]

Policy = Literal[
    "public",
    "user",
    "clinician",
    "admin",
    "device",
    "patient",
    "care_team",
    "web_user",
    "web_clinician",
    "web_patient_self",
    "web_care_team",
]
"""Who may call a route.

``public``: anyone. ``user``: any logged-in user (object-level checks inside). ``clinician``:
clinicians and admins. ``admin``: admins. ``device``: a home hub's device token. ``patient``: the
patient named in the path, their team's clinicians and admins. ``care_team``: the patient's team's
clinicians and admins (the patient gets 403, anyone else 404).

Pages, by the session cookie: ``web_user``: any logged-in user. ``web_clinician``: clinicians and
admins (a patient goes to their own view). ``web_patient_self``: a patient, on their own record
(anyone else goes to their home page). ``web_care_team``: the ``{pid}`` patient's team's
clinicians and admins, as ``care_team`` (the patient is sent to their own view from a page, 403
on a form post; anyone else 404).
"""

PATIENT_POLICIES: frozenset[Policy] = frozenset({"patient", "care_team"})
PAGE_POLICIES: frozenset[Policy] = frozenset(
    {"web_user", "web_clinician", "web_patient_self", "web_care_team"}
)


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    path: re.Pattern[str]
    policy: Policy


def _rule(methods: str, path: str, policy: Policy) -> Rule:
    return Rule(frozenset(methods.split()), re.compile(path), policy)


# Ordered: the first matching rule decides. Paths are FastAPI path templates.
RULES: tuple[Rule, ...] = (
    _rule("GET HEAD", r"^/(healthz|docs|docs/oauth2-redirect|openapi\.json)$", "public"),
    _rule("POST", r"^/v1/auth/token$", "public"),
    # The web pages (service.web), by the session cookie. Logging out needs no live session.
    _rule("GET HEAD POST", r"^/(login|logout|static/\{name\})$", "public"),
    _rule("GET HEAD", r"^/$", "web_user"),
    _rule("GET HEAD", r"^/team$", "web_clinician"),
    _rule("GET HEAD POST", r"^/me(/.*)?$", "web_patient_self"),
    _rule("GET HEAD POST", r"^/patients/\{pid\}(/.*)?$", "web_care_team"),
    _rule("POST", r"^/v1/devices/enroll$", "public"),
    _rule("GET POST", r"^/v1/auth/(me|logout|password)$", "user"),
    _rule("POST", r"^/v1/ingest$", "device"),
    _rule("POST", r"^/v1/devices/status$", "device"),
    _rule("GET", r"^/v1/patients$", "user"),
    _rule("POST", r"^/v1/patients$", "clinician"),
    _rule("GET", r"^/v1/alerts$", "user"),
    _rule("POST", r"^/v1/alerts/\{alert_id\}/(acknowledge|resolve)$", "clinician"),
    _rule("GET POST PATCH", r"^/v1/(teams|users|audit)(/.*)?$", "admin"),
    _rule("GET", r"^/v1/admin/worker(/.*)?$", "admin"),
    _rule("GET", r"^/v1/notification-deliveries$", "clinician"),
    # The patient may read their record and report check-ins; changes are the care team's.
    _rule("POST", r"^/v1/patients/\{patient_id\}/checkins$", "patient"),
    _rule("GET", r"^/v1/patients/\{patient_id\}/(history|devices|enrollment-codes)$", "care_team"),
    # The recovery trajectory is the patient's to read too; the baseline is the care team's.
    _rule("GET", r"^/v1/patients/\{patient_id\}/trajectory$", "patient"),
    _rule("GET PUT", r"^/v1/patients/\{patient_id\}/baseline$", "care_team"),
    # Exports: the FHIR Bundle and the clinic report are for the hospital's record and the
    # visit (the care team); the CSV of the days is the patient's own data, for research too.
    _rule("GET", r"^/v1/patients/\{patient_id\}/(fhir|report)$", "care_team"),
    _rule("GET", r"^/v1/patients/\{patient_id\}/days\.csv$", "patient"),
    _rule("GET", r"^/v1/patients/\{patient_id\}(/.*)?$", "patient"),
    _rule("POST PATCH DELETE PUT", r"^/v1/patients/\{patient_id\}(/.*)?$", "care_team"),
)


def policy_of(method: str, path: str) -> Policy | None:
    """The policy of ``method path`` (a path template), or ``None`` when no rule covers it."""
    for rule in RULES:
        if method in rule.methods and rule.path.match(path):
            return rule.policy
    return None


def install_access_control(app: FastAPI) -> None:
    """Check that every route has a policy; raise :class:`ConfigurationError` naming any without."""
    table: dict[tuple[str, str], Policy] = {}
    missing: list[str] = []
    # FastAPI wraps included routers; iter_route_contexts yields every route with its full path.
    for route in iter_route_contexts(app.routes):
        methods = route.methods or set()
        path = route.path or ""
        for method in methods:
            policy = policy_of(method, path)
            if policy is None:
                missing.append(f"{method} {path}")
            else:
                table[(method, path)] = policy
    if missing:
        raise ConfigurationError(
            "routes without an access rule in service/api/access.py: " + ", ".join(sorted(missing))
        )
    app.state.access_table = table
    app.add_exception_handler(PageAnswer, answer_page)


def _user_token(token: str | None) -> str:
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    return token


async def _device(conn: AsyncConnection[Any], token: str | None) -> DeviceIdentity:
    if not token:
        raise AuthenticationError("this route needs the hub's device token as a Bearer token")
    return await resolve_device_token(conn, token)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def enforce_access(request: Request, connections: RequestConnections) -> None:
    """Authenticate the caller and apply the route's policy (the app-wide dependency).

    A public route takes no database connection here; the others check out the request's one,
    which the handler then shares.
    """
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    policy = request.app.state.access_table.get((request.method, path))
    if policy is None:
        raise NotFoundError(f"no route {request.method} {path}")
    if policy == "public":
        return
    conn = await connections.get()
    if policy in PAGE_POLICIES:
        await _check_page(request, conn, policy, f"{request.method} {path}")
        return
    token = _bearer(request)
    if policy == "device":
        device = await _device(conn, token)
        request.state.device = device
        await record_event(
            conn,
            actor_kind="device",
            actor_id=device.device_id,
            action=f"{request.method} {path}",
            patient_id=device.patient_id,
        )
        return
    if policy in PATIENT_POLICIES:
        await _check_patient(request, conn, _user_token(token), policy, f"{request.method} {path}")
        return
    principal = await resolve_access_token(conn, _user_token(token))
    request.state.principal = principal
    if policy == "admin" and principal.role != "admin":
        raise PermissionDeniedError("this route is for administrators")
    if policy == "clinician" and principal.role not in ("clinician", "admin"):
        raise PermissionDeniedError("this route is for the care team")


def _path_patient_id(request: Request) -> UUID | None:
    return _uuid_or_none(str(request.path_params.get("patient_id", "")))


async def _check_patient(
    request: Request, conn: AsyncConnection[Any], token: str, policy: Policy, action: str
) -> None:
    patient_id = _path_patient_id(request)
    access = await check_patient_access(
        conn, token, patient_id, action=action, care_team_only=policy == "care_team"
    )
    request.state.principal = access.principal
    if patient_id is None:
        raise NotFoundError(f"no patient {request.path_params.get('patient_id', '')}")
    if access.decision == "not_visible":
        raise NotFoundError(f"no patient {patient_id}", patient_id=str(patient_id))
    if access.decision == "care_team_only":
        raise PermissionDeniedError("only the care team may do this")
    request.state.patient = access.patient


async def _check_page(
    request: Request, conn: AsyncConnection[Any], policy: Policy, action: str
) -> None:
    """A page's policy: the session's user, the form's CSRF token, then the role and patient."""
    principal = await principal_or_none(conn, request)
    if principal is None:
        raise await login_required(request)
    request.state.principal = principal
    try:
        if request.method == "POST":
            form = await request.form()
            try:
                check_csrf(request, str(form.get("csrf") or ""))
            except ServiceError:
                await form.close()  # a refused upload's spooled files
                raise
        is_patient = principal.role == "patient"
        if (policy == "web_clinician" and is_patient) or (
            policy == "web_patient_self" and not is_patient
        ):
            raise sent_home(principal)
        if policy == "web_patient_self":
            await _check_page_patient(request, conn, principal.patient_id, policy, action)
        elif policy == "web_care_team":
            raw = str(request.path_params.get("pid", ""))
            await _check_page_patient(request, conn, _uuid_or_none(raw), policy, action)
    except ServiceError as exc:
        raise page_refused(request, exc) from exc


async def _check_page_patient(
    request: Request,
    conn: AsyncConnection[Any],
    patient_id: UUID | None,
    policy: Policy,
    action: str,
) -> None:
    principal: Principal = request.state.principal
    access = await check_patient_access(
        conn, principal, patient_id, action=action, care_team_only=policy == "web_care_team"
    )
    if access.decision == "not_visible":
        if policy == "web_patient_self":
            raise NotFoundError("no patient record for this login")
        raise NotFoundError(f"no patient {request.path_params.get('pid', '')}")
    if access.decision == "care_team_only":
        if request.method == "POST":
            raise PermissionDeniedError("only the care team may do this")
        raise sent_home(principal)
    request.state.patient = access.patient


def _uuid_or_none(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None
