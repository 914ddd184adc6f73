"""Bad input at every boundary: a clear 4xx naming the field, never a 500, no database text."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import AsyncConnection, errors

from service.errors import translate_database_error
from tests.fixtures.service import World

PATIENT = {
    "display_name": "New Patient",
    "birth_year": 1960,
    "tz": "Europe/Berlin",
    "surgery_type": "fusion",
    "surgery_date": "2026-05-04",
}


def _problem_at(response: object, status: int, loc: list[object]) -> None:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    body = response.json()  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert body["errors"][0]["loc"] == loc, body


async def test_nul_in_login_form_json_body_and_query_is_a_422_naming_the_field(
    world: World,
) -> None:
    login = await world.client.post(
        "/v1/auth/token", data={"username": "nurse\x00@north.example", "password": "x"}
    )
    _problem_at(login, 422, ["body", "username"])
    team = await world.client.post(
        "/v1/teams", json={"name": "no\x00rth"}, headers=world.auth(world.admin_token)
    )
    _problem_at(team, 422, ["name"])
    note = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={"kind": "pain", "note": {"nested": ["ok", "b\x00d"]}},
        headers=world.auth(world.patient_token),
    )
    _problem_at(note, 422, ["note", "nested", 1])
    listed = await world.client.get(
        "/v1/patients?limit=%00", headers=world.auth(world.clinician_token)
    )
    _problem_at(listed, 422, ["query", "limit"])


async def test_ingest_integers_beyond_the_column_and_other_content_types(world: World) -> None:
    batch = {
        "batch_id": str(uuid.uuid4()),
        "samples": [
            {
                "kind": "steps",
                "t": "2026-05-10T09:01:00Z",
                "steps": 9223372036854775808,
                "interval_s": 60,
            }
        ],
    }
    response = await world.client.post(
        "/v1/ingest", json=batch, headers=world.auth(world.device_token)
    )
    assert response.status_code == 422, response.text
    assert "steps" in response.json()["detail"]
    as_text = await world.client.post(
        "/v1/ingest",
        content=b"{}",
        headers=world.auth(world.device_token) | {"content-type": "text/plain"},
    )
    assert as_text.status_code == 415
    assert as_text.json()["code"] == "unsupported_media_type"
    form_team = await world.client.post(
        "/v1/teams", data={"name": "west"}, headers=world.auth(world.admin_token)
    )
    assert form_team.status_code == 415


async def test_every_paged_list_refuses_an_oversized_cursor(world: World) -> None:
    schema = (await world.client.get("/openapi.json")).json()
    paged = [
        path.replace("{patient_id}", str(world.patient_id))
        for path, item in schema["paths"].items()
        if any(p["name"] == "cursor" for p in item.get("get", {}).get("parameters", []))
    ]
    assert len(paged) >= 3
    for path in paged:
        response = await world.client.get(
            f"{path}?cursor=99999999999999999999", headers=world.auth(world.admin_token)
        )
        _problem_at(response, 422, ["query", "cursor"])


async def test_unknown_team_is_a_422_and_a_bad_email_never_logs_the_row(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unknown = await world.client.post(
        "/v1/patients",
        json=PATIENT | {"team_id": str(uuid.uuid4())},
        headers=world.auth(world.admin_token),
    )
    _problem_at(unknown, 422, ["team_id"])
    user = await world.client.post(
        "/v1/users",
        json={"email": "nobody", "password": "a long passphrase here", "role": "clinician"},
        headers=world.auth(world.admin_token),
    )
    _problem_at(user, 422, ["email"])
    assert "argon2" not in user.text
    assert "Failing row contains" not in caplog.text
    assert "argon2" not in caplog.text


async def test_database_errors_are_translated_without_their_detail(world: World) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        with pytest.raises(errors.CheckViolation) as caught:
            await conn.execute(
                "INSERT INTO users (email, password_hash, role) VALUES ('nobody', 'secret', 'admin')"
            )
    assert "Failing row contains" in str(caught.value)  # what must never leave the boundary
    error = translate_database_error(caught.value)
    assert error.status == 422
    assert error.fields["errors"][0]["loc"] == ["email"]
    assert "secret" not in error.detail
    assert "Failing row" not in error.detail


async def test_dates_are_bounded_by_the_surgery_and_the_calendar(world: World) -> None:
    clinician = world.auth(world.clinician_token)
    far_future = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    for surgery_date in (far_future, "0001-01-01", "1899-12-31"):
        response = await world.client.post(
            "/v1/patients", json=PATIENT | {"surgery_date": surgery_date}, headers=clinician
        )
        _problem_at(response, 422, ["surgery_date"])
    early_clearance = await world.client.post(
        "/v1/patients", json=PATIENT | {"running_cleared_on": "2026-05-01"}, headers=clinician
    )
    assert early_clearance.status_code == 422
    assert "running_cleared_on" in early_clearance.text
    url = f"/v1/patients/{world.patient_id}"  # surgery on 2026-03-02
    patch = await world.client.patch(
        url, json={"running_cleared_on": "2026-03-01"}, headers=clinician
    )
    _problem_at(patch, 422, ["running_cleared_on"])
    moved = await world.client.patch(
        url,
        json={"running_cleared_on": "2026-04-01", "surgery_date": "2026-04-15"},
        headers=clinician,
    )
    _problem_at(moved, 422, ["running_cleared_on"])
    override = await world.client.post(
        f"{url}/plan-overrides", json={"effective_from": "2026-03-01"}, headers=clinician
    )
    _problem_at(override, 422, ["effective_from"])
    assert (
        await world.client.patch(url, json={"running_cleared_on": "2026-04-01"}, headers=clinician)
    ).status_code == 200


async def test_plan_override_floats_are_bounded(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/plan-overrides"
    clinician = world.auth(world.clinician_token)
    tiny = await world.client.post(
        url, json={"effective_from": "2026-05-20", "max_session_min": 1e-300}, headers=clinician
    )
    _problem_at(tiny, 422, ["max_session_min"])
    rounded = await world.client.post(
        url, json={"effective_from": "2026-05-20", "aerobic_min_low": 1e-300}, headers=clinician
    )
    assert rounded.status_code == 201, rounded.text
    assert rounded.json()["aerobic_min_low"] == 0
