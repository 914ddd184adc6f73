"""Browser sessions: idle time renewed by activity, an absolute maximum, nothing typed is lost.

Expiry is simulated by moving the stored token's times, never by waiting.
"""

from __future__ import annotations

import html
import re

import httpx
from psycopg import AsyncConnection

from service.auth import hash_token
from tests.fixtures.service import PASSWORD, World
from tests.web.web_helpers import csrf_of, web_login

IDLE_S, MAX_S = 1800, 43_200  # the settings' defaults (service.settings)


def _token(client: httpx.AsyncClient) -> str:
    token = client.cookies.get("rehab_session")
    assert token
    return token


async def _expires_in_s(world: World, token: str) -> float:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT extract(epoch FROM expires_at - now())::float8 FROM access_tokens"
            " WHERE token_hash = %s",
            (hash_token(token),),
        )
        row = await cur.fetchone()
    assert row is not None
    return float(row[0])


async def _set_times(world: World, token: str, *, expires_in_s: float, age_s: float = 0) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE access_tokens SET expires_at = now() + make_interval(secs => %s),"
            " created_at = now() - make_interval(secs => %s) WHERE token_hash = %s",
            (expires_in_s, age_s, hash_token(token)),
        )


async def test_activity_renews_the_idle_time_and_polls_do_not(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    token = _token(world.client)
    assert IDLE_S - 60 < await _expires_in_s(world, token) <= IDLE_S
    await _set_times(world, token, expires_in_s=600)
    idle = await world.client.get("/team", headers={"X-Rehab-Poll": "idle"})
    assert idle.status_code == 200
    assert 590 < int(idle.headers["X-Rehab-Session-Left-S"]) <= 600
    assert await _expires_in_s(world, token) <= 600
    active = await world.client.get("/team", headers={"X-Rehab-Poll": "active"})
    assert int(active.headers["X-Rehab-Session-Left-S"]) > IDLE_S - 60
    await _set_times(world, token, expires_in_s=600)
    await world.client.get("/team")  # navigating is activity
    assert await _expires_in_s(world, token) > IDLE_S - 60


async def test_activity_never_extends_past_the_maximum(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    token = _token(world.client)
    await _set_times(world, token, expires_in_s=60, age_s=MAX_S - 300)
    await world.client.get("/team")
    assert 200 < await _expires_in_s(world, token) <= 300


async def test_an_expired_session_says_so_and_a_poll_gets_a_bare_401(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    token = _token(world.client)
    await _set_times(world, token, expires_in_s=-1)
    poll = await world.client.get("/team?q=ann", headers={"X-Rehab-Poll": "idle"})
    assert poll.status_code == 401
    assert poll.content == b""
    page = await world.client.get("/team?q=ann")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/team%3Fq%3Dann&expired=1"
    login = await world.client.get(page.headers["location"])
    assert "Your session expired" in login.text


async def test_a_note_posted_after_expiry_is_sent_after_logging_in_again(world: World) -> None:
    await web_login(world.client, "patient@north.example")
    csrf = csrf_of((await world.client.get("/me")).text)
    token = _token(world.client)
    await _set_times(world, token, expires_in_s=-1)
    posted = await world.client.post(
        "/me/checkin",
        data={"csrf": csrf, "pain_0_10": "6", "stretching_sessions": "1", "note": "typed long"},
    )
    assert posted.status_code == 401
    assert "Log in again and what you typed will be sent" in posted.text
    login_csrf = csrf_of(posted.text)
    keep = posted.text.split('name="keep" value="')[1].split('"')[0]
    keep_sig = posted.text.split('name="keep_sig" value="')[1].split('"')[0]
    again = await world.client.post(
        "/login",
        data={
            "username": "patient@north.example",
            "password": PASSWORD,
            "csrf": login_csrf,
            "keep": html.unescape(keep),
            "keep_sig": keep_sig,
        },
    )
    assert again.status_code == 200
    assert 'action="/me/checkin"' in again.text
    assert "data-autosubmit" in again.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', again.text))
    assert fields["note"] == "typed long"
    sent = await world.client.post("/me/checkin", data=fields)
    assert sent.status_code == 303
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT pain_0_10, note FROM checkins WHERE patient_id = %s", (world.patient_id,)
        )
        assert await cur.fetchall() == [(6, "typed long")]


async def test_a_kept_form_goes_only_to_the_same_user(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    csrf = csrf_of((await world.client.get(f"/patients/{world.patient_id}")).text)
    await _set_times(world, _token(world.client), expires_in_s=-1)
    posted = await world.client.post(
        f"/patients/{world.patient_id}/settings", data={"csrf": csrf, "hr_limit_bpm": "101"}
    )
    assert posted.status_code == 401
    keep = posted.text.split('name="keep" value="')[1].split('"')[0]
    keep_sig = posted.text.split('name="keep_sig" value="')[1].split('"')[0]
    other = await world.client.post(
        "/login",
        data={
            "username": "admin@clinic.example",
            "password": PASSWORD,
            "csrf": csrf_of(posted.text),
            "keep": html.unescape(keep),
            "keep_sig": keep_sig,
        },
    )
    assert other.status_code == 303  # logged in, but the other user's form is dropped
    assert "data-autosubmit" not in other.text
    # A post without the session's own CSRF token is not kept either.
    await _set_times(world, _token(world.client), expires_in_s=-1)
    forged = await world.client.post(
        f"/patients/{world.patient_id}/settings", data={"csrf": "x", "hr_limit_bpm": "101"}
    )
    assert forged.status_code == 401
    assert 'name="keep"' not in forged.text
