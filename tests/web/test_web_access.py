"""Web views: login cookie, CSRF, and the same access rule as the API (in-process, real database)."""

from __future__ import annotations

from datetime import date

import httpx
from psycopg import AsyncConnection

from service.accounts import create_user
from service.alerts import alert_target, raise_alert
from service.patients import PatientIn, add_patient
from tests.fixtures.service import PASSWORD, World
from tests.web.web_helpers import csrf_of, web_login


async def _patient_login(world: World) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await create_user(
            conn,
            email="pat@north.example",
            password=PASSWORD,
            role="patient",
            team="north",
            patient_id=world.patient_id,
        )


async def test_login_keeps_the_token_in_an_httponly_samesite_strict_cookie(world: World) -> None:
    client = world.client
    client.cookies.clear()
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": "nurse@north.example", "password": PASSWORD, "csrf": csrf_of(form.text)},
    )
    assert response.status_code == 303
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "rehab_session" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    landing = await client.get("/", follow_redirects=True)
    assert landing.url.path == "/team"
    assert "Berlin Patient" in landing.text


async def test_login_refuses_a_missing_csrf_token_and_a_wrong_password(world: World) -> None:
    client = world.client
    client.cookies.clear()
    no_token = await client.post(
        "/login", data={"username": "nurse@north.example", "password": PASSWORD}
    )
    assert no_token.status_code == 403
    assert "rehab_session" not in no_token.headers.get("set-cookie", "")
    form = await client.get("/login")
    wrong = await client.post(
        "/login",
        data={"username": "nurse@north.example", "password": "nope", "csrf": csrf_of(form.text)},
    )
    assert wrong.status_code == 401
    assert "do not match" in wrong.text


async def test_anonymous_visitors_go_to_the_login_form(client: httpx.AsyncClient) -> None:
    for path in ("/", "/team", "/me"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_a_clinician_cannot_open_another_teams_patient(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    own = await world.client.get(f"/patients/{world.patient_id}")
    assert own.status_code == 200
    assert "Berlin Patient" in own.text
    other = await world.client.get(f"/patients/{world.other_patient_id}")
    assert other.status_code == 404
    assert "Other Patient" not in other.text
    garbage = await world.client.get("/patients/not-a-uuid")
    assert garbage.status_code == 404
    team = await world.client.get("/team")
    assert "Other Patient" not in team.text


async def test_a_patient_sees_only_their_own_day(world: World) -> None:
    await _patient_login(world)
    await web_login(world.client, "pat@north.example")
    assert (await world.client.get("/team")).headers["location"] == "/me"
    assert (await world.client.get(f"/patients/{world.patient_id}")).headers["location"] == "/me"
    assert (await world.client.get(f"/patients/{world.other_patient_id}")).status_code == 404
    me = await world.client.get("/me")
    assert me.status_code == 200
    assert "Daily check-in" in me.text


async def test_acknowledging_needs_the_session_csrf_token(world: World) -> None:
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
        cur = await conn.execute("SELECT id FROM alerts")
        (alert_id,) = await cur.fetchone() or (None,)
    await web_login(world.client, "nurse@north.example")
    page = await world.client.get(f"/patients/{world.patient_id}")
    url = f"/patients/{world.patient_id}/alerts/{alert_id}/acknowledge"
    forged = await world.client.post(url, data={"note": "x", "csrf": "forged"})
    assert forged.status_code == 403
    done = await world.client.post(
        url, data={"note": "called, resting", "csrf": csrf_of(page.text)}
    )
    assert done.status_code == 303
    # The other team's clinician cannot act on it, even with their own valid token.
    await web_login(world.client, "nurse@south.example")
    team = await world.client.get("/team")
    refused = await world.client.post(
        f"/patients/{world.patient_id}/alerts/{alert_id}/resolve",
        data={"note": "x", "csrf": csrf_of(team.text)},
    )
    assert refused.status_code == 404
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT state, ack_note FROM alerts WHERE id = %s", (alert_id,))
        assert await cur.fetchone() == ("acknowledged", "called, resting")


async def test_names_and_notes_are_escaped(world: World) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await add_patient(
            conn,
            PatientIn(
                display_name="<script>alert(1)</script>",
                birth_year=1960,
                tz="Europe/Berlin",
                surgery_type="fusion",
                surgery_date=date(2026, 3, 2),
            ),
            team="north",
        )
    await web_login(world.client, "nurse@north.example")
    team = await world.client.get("/team")
    assert "<script>alert(1)</script>" not in team.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in team.text
    assert "script-src 'self'" in team.headers["content-security-policy"]
