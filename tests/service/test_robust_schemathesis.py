"""schemathesis over every operation of the OpenAPI document: no 5xx, no undocumented answer.

Deterministic and bounded: Hypothesis runs derandomized (a fixed seed per test), without an
example database, with a few positive and a few negative examples per operation. The app built by
``create_app(test_settings)`` runs in this process under uvicorn on a loopback port (so that the
sync checks of schemathesis can call it while the app keeps its own event loop and pool), with a
clinician's bearer token, an admin's for the admin routes and a device token for ingest.

Every answer is checked for: no 5xx, a status code the document lists for the operation, the
documented content type, headers and response schema.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from psycopg import AsyncConnection
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.accounts import create_user, ensure_team
from service.api import create_app
from service.patients import PatientIn, add_device, add_patient
from tests.fixtures.service import PASSWORD, make_settings

# Tunable: examples per operation and generation mode. With 38 operations this is ~570 cases,
# about half a minute on the reference machine (2 cores).
EXAMPLES_PER_MODE = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_ADMIN_PATHS = ("/v1/teams", "/v1/users", "/v1/audit")
_DEVICE_PATHS = ("/v1/ingest", "/v1/devices/status")
_SPARE = "spare passphrase 4711"
# Fresh tokens (of a login of its own) for the routes that revoke the caller's token, so the others keep theirs.
_REVOKING = ("/v1/auth/logout", "/v1/auth/password")


@dataclass
class Clinic:
    base_url: str
    patient_id: UUID
    team_id: UUID
    clinician: str
    admin: str
    device: str
    tokens: Callable[[], str]
    cases: int = 0
    failures: list[str] = field(default_factory=list)

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith(_DEVICE_PATHS):
            token = self.device
        elif path.startswith(_ADMIN_PATHS):
            token = self.admin
        elif path in _REVOKING:
            token = self.tokens()
        else:
            token = self.clinician
        return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _seed(db_url: str) -> tuple[UUID, UUID, str]:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id = await add_patient(
            conn,
            PatientIn(
                display_name="Fuzzed Patient",
                birth_year=1961,
                tz="Europe/Berlin",
                surgery_type="fusion",
                surgery_date=date(2026, 3, 2),
            ),
            team="north",
        )
        _, device = await add_device(conn, patient_id=patient_id)
        await create_user(
            conn, email="nurse@north.example", password=PASSWORD, role="clinician", team="north"
        )
        await create_user(conn, email="admin@clinic.example", password=PASSWORD, role="admin")
        # The revoking routes' caller: a password unlike the document's examples.
        await create_user(
            conn, email="spare@north.example", password=_SPARE, role="clinician", team="north"
        )
        return patient_id, await ensure_team(conn, "north"), device


@pytest.fixture(scope="module")
def clinic(make_database: Callable[[], str]) -> Iterator[Clinic]:
    db_url = make_database()
    patient_id, team_id, device = asyncio.run(_seed(db_url))
    app = create_app(
        make_settings(
            db_url,
            # Fuzzed logins must not lock the test's own logins out.
            login_max_failures_per_account=1_000_000,
            login_max_failures_per_address=1_000_000,
        )
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for the server's start (not a timing assertion)
        if server.started:
            break
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base_url)

    def token(email: str, password: str = PASSWORD) -> str:
        response = http.post("/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        value: str = response.json()["access_token"]
        return value

    try:
        yield Clinic(
            base_url=base_url,
            patient_id=patient_id,
            team_id=team_id,
            clinician=token("nurse@north.example"),
            admin=token("admin@clinic.example"),
            device=device,
            tokens=lambda: token("spare@north.example", _SPARE),
        )
    finally:
        http.close()
        server.should_exit = True
        thread.join(timeout=30)


def _operations(base_url: str) -> list[Any]:
    raw = httpx.get(f"{base_url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.generation.update(allow_x00=True, deterministic=True)
    return [result.ok() for result in schema.get_all_operations()]


def _run_operation(clinic: Clinic, operation: Any, mode: GenerationMode) -> None:
    fixed = {
        name: str(value)
        for name, value in (("patient_id", clinic.patient_id), ("team_id", clinic.team_id))
        if f"{{{name}}}" in operation.path
    }
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        clinic.cases += 1
        headers = clinic.headers_for(operation.path)
        try:
            case.call_and_validate(base_url=clinic.base_url, headers=headers, checks=CHECKS)
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collected: one report lists every failing operation
            message = str(exc).strip().splitlines()
            clinic.failures.append(
                f"{operation.method.upper()} {operation.path} ({mode.value}): "
                + " | ".join(message[:6])
            )

    try:
        run()
    except Unsatisfiable:
        # Nothing to negate: an operation without parameters or body has no invalid input.
        assert mode is GenerationMode.NEGATIVE, operation.path


def test_every_operation_answers_as_documented(clinic: Clinic) -> None:
    operations = _operations(clinic.base_url)
    assert len(operations) >= 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run_operation(clinic, operation, mode)
    print(  # the figures of the run (pytest -s)
        f"\nschemathesis: {len(operations)} operations, {clinic.cases} cases, "
        f"{len(clinic.failures)} failing"
    )
    assert not clinic.failures, "\n".join(clinic.failures)
