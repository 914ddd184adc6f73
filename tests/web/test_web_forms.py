"""Form posts of the views: plan override, settings, and the patient's check-in (real database)."""

from __future__ import annotations

from psycopg import AsyncConnection

from service.accounts import create_user
from tests.fixtures.service import PASSWORD, World
from tests.web.web_helpers import csrf_of, web_login


async def test_plan_override_and_settings_from_the_editor(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    url = f"/patients/{world.patient_id}"
    csrf = csrf_of((await world.client.get(url)).text)
    bad = await world.client.post(
        f"{url}/plan-overrides",
        data={
            "csrf": csrf,
            "effective_from": "2026-05-20",
            "aerobic_min_low": "30",
            "aerobic_min_high": "10",
        },
    )
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text  # the page comes back with the reason
    ok = await world.client.post(
        f"{url}/plan-overrides",
        data={
            "csrf": csrf,
            "effective_from": "2026-05-20",
            "max_session_min": "20",
            "swimming_cleared": "true",
            "note": "wound check ok",
        },
    )
    assert ok.status_code == 303
    saved = await world.client.post(
        f"{url}/settings",
        data={
            "csrf": csrf,
            "hr_limit_bpm": "118",
            "swimming_cleared_on": "2026-05-20",
            "beta_blocker": "true",
        },
    )
    assert saved.status_code == 303
    page = await world.client.get(saved.headers["location"])
    assert "Settings saved." in page.text
    assert "wound check ok" in page.text
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT hr_limit_bpm, swimming_cleared_on::text, beta_blocker FROM patients WHERE id = %s",
            (world.patient_id,),
        )
        assert await cur.fetchone() == (118.0, "2026-05-20", True)
        cur = await conn.execute(
            "SELECT field FROM patient_changes WHERE patient_id = %s ORDER BY field",
            (world.patient_id,),
        )
        cur2 = await conn.execute("SELECT count(*) FROM plan_overrides")
        assert await cur2.fetchone() == (1,)  # the rejected override left nothing behind
        assert [r[0] for r in await cur.fetchall()] == [
            "beta_blocker",
            "hr_limit_bpm",
            "swimming_cleared_on",
        ]


async def test_a_red_flag_check_in_raises_an_urgent_alert(world: World) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await create_user(
            conn,
            email="pat@north.example",
            password=PASSWORD,
            role="patient",
            team="north",
            patient_id=world.patient_id,
        )
    await web_login(world.client, "pat@north.example")
    csrf = csrf_of((await world.client.get("/me")).text)
    sent = await world.client.post(
        "/me/checkin",
        data={
            "csrf": csrf,
            "pain_0_10": "6",
            "stretching_sessions": "2",
            "strength_session": "true",
            "activity_kind_0": "other",
            "activity_minutes_0": "15",
            "red_flags": ["sharp_pain", "fever"],
            "note": "after the walk",
        },
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/me?sent=redflag"
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT pain_0_10, red_flags, activities FROM checkins")
        assert await cur.fetchone() == (
            6,
            ["sharp_pain", "fever"],
            [{"kind": "other", "minutes": 15}],
        )
        cur = await conn.execute("SELECT rule, severity, state FROM alerts")
        assert await cur.fetchall() == [("RED_FLAG_SYMPTOM", "urgent", "open")]
    await web_login(world.client, "nurse@north.example")
    team = await world.client.get("/team")
    assert "Urgent alert" in team.text
