"""Access control generated from the route table.

Every route of the app has exactly one access policy, looked up from its method and path template
(:data:`RULES`, first match wins). :func:`install_access_control` refuses to build an app with a
route no rule covers, and one app-wide dependency, :func:`enforce_access`, authenticates the caller
and applies the policy before any handler runs. Patient-scoped policies load the patient named in
the path and answer 404 for a patient the caller may not see (no existence leak); every decision
on patient data goes to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from psycopg import AsyncConnection

from service.accounts import resolve_access_token
from service.api.deps import Conn
from service.audit import record_event
from service.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
)
from service.patients.access import check_patient_access
from service.patients.devices import DeviceIdentity, resolve_device_token

__all__ = [
    "PATIENT_POLICIES",
    "RULES",
    "Policy",
    "enforce_access",
    "install_access_control",
    "policy_of",
]

Policy = Literal["public", "user", "clinician", "admin", "device", "patient", "care_team"]
"""Who may call a route.

``public``: anyone. ``user``: any logged-in user (object-level checks inside). ``clinician``:
clinicians and admins. ``admin``: admins. ``device``: a home hub's device token. ``patient``: the
patient named in the path, their team's clinicians and admins. ``care_team``: the patient's team's
clinicians and admins (the patient gets 403, anyone else 404).
"""

PATIENT_POLICIES: frozenset[Policy] = frozenset({"patient", "care_team"})


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
    # The web views (service.web) read the session cookie and check patient access themselves.
    _rule(
        "GET HEAD POST",
        r"^/(login|logout|team|me|me/checkin|static/\{name\}|patients/\{pid\}(/.*)?)?$",
        "public",
    ),
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


async def enforce_access(request: Request, conn: Conn) -> None:
    """Authenticate the caller and apply the route's policy (the app-wide dependency)."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    policy = request.app.state.access_table.get((request.method, path))
    if policy is None:
        raise NotFoundError(f"no route {request.method} {path}")
    if policy == "public":
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
    try:
        return UUID(str(request.path_params.get("patient_id", "")))
    except ValueError:
        return None


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
