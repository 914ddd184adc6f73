"""Patients through the API: create, change with history, plan overrides, hub pairing with an
enrollment code, devices, the audit trail, paging, body limits and CORS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
from psycopg import AsyncConnection

from service.api import create_app
from tests.fixtures.service import World, make_settings

NEW_PATIENT = {
    "display_name": "C. New",
    "birth_year": 1958,
    "tz": "Europe/Vienna",
    "surgery_type": "laminectomy",
    "surgery_date": "2026-04-20",
    "approach": "minimally_invasive",
    "hr_limit_bpm": 115,
}


async def test_clinician_creates_and_changes_a_patient_with_history(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    created = await world.client.post("/v1/patients", json=NEW_PATIENT, headers=nurse)
    assert created.status_code == 201, created.text
    patient = created.json()
    assert patient["team_id"] == str(world.team_id)
    assert patient["hr_limit_bpm"] == 115
    url = f"/v1/patients/{patient['id']}"
    changed = await world.client.patch(
        url, json={"hr_limit_bpm": 120, "beta_blocker": True, "tz": "Europe/Vienna"}, headers=nurse
    )
    assert changed.status_code == 200
    assert changed.json()["beta_blocker"] is True
    history = (await world.client.get(f"{url}/history", headers=nurse)).json()
    # tz did not change, so only two rows; each names who, old and new.
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("beta_blocker", False, True),
        ("hr_limit_bpm", 115.0, 120.0),
    ]
    assert {h["changed_by"] for h in history} == {
        (await world.client.get("/v1/auth/me", headers=nurse)).json()["user_id"]
    }
    refused = await world.client.patch(url, json={"display_name": None}, headers=nurse)
    assert refused.status_code == 422
    refused = await world.client.patch(url, json={"tz": "Mars/Olympus"}, headers=nurse)
    assert refused.status_code == 422
    # The other team does not see it; a clinician cannot create in a team not theirs.
    other = world.auth(world.other_clinician_token)
    assert (await world.client.get(url, headers=other)).status_code == 404
    foreign = await world.client.post(
        "/v1/patients", json={**NEW_PATIENT, "team_id": str(world.team_id)}, headers=other
    )
    assert foreign.status_code == 404


async def test_plan_overrides_are_appended_and_listed_in_effect_order(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    url = f"/v1/patients/{world.patient_id}/plan-overrides"
    for body in (
        {"effective_from": "2026-06-01", "aerobic_min_low": 25, "aerobic_min_high": 35},
        {"effective_from": "2026-05-20", "max_session_min": 20, "note": "short sessions"},
    ):
        response = await world.client.post(url, json=body, headers=nurse)
        assert response.status_code == 201, response.text
    listed = (await world.client.get(url, headers=world.auth(world.patient_token))).json()
    assert [o["effective_from"] for o in listed] == ["2026-05-20", "2026-06-01"]
    bad = await world.client.post(
        url,
        json={"effective_from": "2026-06-01", "aerobic_min_low": 40, "aerobic_min_high": 30},
        headers=nurse,
    )
    assert bad.status_code == 422


async def test_enrollment_code_pairs_a_hub_once(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    issued = await world.client.post(
        f"/v1/patients/{world.patient_id}/enrollment-codes", headers=nurse
    )
    assert issued.status_code == 201
    code = issued.json()["code"]
    enrolled = await world.client.post(
        "/v1/devices/enroll", json={"code": code.lower(), "name": "kitchen hub"}
    )
    assert enrolled.status_code == 201, enrolled.text
    token = enrolled.json()["token"]
    again = await world.client.post("/v1/devices/enroll", json={"code": code, "name": "x"})
    assert again.status_code == 401
    batch = {
        "batch_id": str(uuid.uuid4()),
        "samples": [{"kind": "steps", "t": "2026-05-10T09:01:00Z", "steps": 12, "interval_s": 60}],
    }
    hub = {"Authorization": f"Bearer {token}"}
    assert (await world.client.post("/v1/ingest", json=batch, headers=hub)).status_code == 200
    status = await world.client.post("/v1/devices/status", json={"battery_pct": 64}, headers=hub)
    assert status.status_code == 204
    devices = (
        await world.client.get(f"/v1/patients/{world.patient_id}/devices", headers=nurse)
    ).json()
    kitchen = next(d for d in devices if d["name"] == "kitchen hub")
    assert kitchen["battery_pct"] == 64
    assert kitchen["last_seen_at"] is not None
    revoked = await world.client.post(
        f"/v1/patients/{world.patient_id}/devices/{kitchen['id']}/revoke", headers=nurse
    )
    assert revoked.status_code == 204
    batch["batch_id"] = str(uuid.uuid4())
    assert (await world.client.post("/v1/ingest", json=batch, headers=hub)).status_code == 401


async def test_reads_and_changes_are_audited_without_health_data(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    await world.client.get(f"/v1/patients/{world.patient_id}/days", headers=nurse)
    await world.client.patch(
        f"/v1/patients/{world.patient_id}", json={"hr_limit_bpm": 131}, headers=nurse
    )
    await world.client.get(
        f"/v1/patients/{world.patient_id}", headers=world.auth(world.other_clinician_token)
    )
    entries = (
        await world.client.get(
            "/v1/audit",
            params={"patient_id": str(world.patient_id)},
            headers=world.auth(world.admin_token),
        )
    ).json()
    actions = [(e["action"], e["outcome"]) for e in reversed(entries)]
    assert actions == [
        ("GET /v1/patients/{patient_id}/days", "allowed"),
        ("PATCH /v1/patients/{patient_id}", "allowed"),
        ("GET /v1/patients/{patient_id}", "denied"),
    ]
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        # Every column but the row id, the time and the uuids, which could spell "131" by chance.
        cur = await conn.execute(
            "SELECT row_to_json(a)::text FROM (SELECT actor_kind, action, outcome FROM audit_log) a"
        )
        dump = " ".join(r[0] for r in await cur.fetchall())
        cur = await conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'audit_log' ORDER BY ordinal_position"
        )
        columns = [r[0] for r in await cur.fetchall()]
    # A new column must be added to the dump above (or be an id, time or uuid).
    assert columns == ["id", "at", "actor_kind", "actor_id", "action", "patient_id", "outcome"]
    for secret_or_health in ("131", "Bearer", world.clinician_token, "Berlin Patient"):
        assert secret_or_health not in dump


async def test_patient_list_is_paged(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    for i in range(4):
        body = {**NEW_PATIENT, "display_name": f"Paged {i}"}
        assert (
            await world.client.post("/v1/patients", json=body, headers=nurse)
        ).status_code == 201
    first = await world.client.get("/v1/patients", params={"limit": 3}, headers=nurse)
    assert len(first.json()) == 3
    second = await world.client.get(first.headers["link"].split(">")[0].lstrip("<"), headers=nurse)
    names = [p["display_name"] for p in first.json() + second.json()]
    assert names == ["Berlin Patient", "Paged 0", "Paged 1", "Paged 2", "Paged 3"]
    mine = await world.client.get("/v1/patients", headers=world.auth(world.patient_token))
    assert [p["id"] for p in mine.json()] == [str(world.patient_id)]


async def test_oversized_bodies_are_refused_before_parsing(world: World) -> None:
    nurse = world.auth(world.clinician_token)
    huge = orjson.dumps({**NEW_PATIENT, "display_name": "x" * (2 * 1024 * 1024)})
    response = await world.client.post(
        "/v1/patients", content=huge, headers={**nurse, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(3):
            yield b" " * (512 * 1024)

    response = await world.client.post(
        "/v1/patients", content=chunks(), headers={**nurse, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_cors_headers_only_when_configured(world: World, db_url: str) -> None:
    origin = {"Origin": "https://dashboard.clinic.example"}
    response = await world.client.get("/healthz", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    app = create_app(make_settings(db_url, cors_origins=["https://dashboard.clinic.example"]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/healthz", headers=origin)
    assert response.headers["access-control-allow-origin"] == "https://dashboard.clinic.example"
