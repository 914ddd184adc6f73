"""The care team's list: ranked by need with reasons, searchable, record numbers, hub data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from tests.fixtures.service import World
from tests.web.web_helpers import day_summary, store_day, web_login

OVER = {
    "code": "DAILY_OVER_TARGET",
    "severity": "warning",
    "message": "Doing much more than planned can slow healing.",
    "evidence": {"aerobic_minutes": 75, "aerobic_min_high": 20, "week": 2},
}


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/patients/[^"]+">([^<]+)</a>', page)


async def _patient(world: World, name: str, **extra: object) -> str:
    body = {
        "display_name": name,
        "birth_year": 1960,
        "tz": "Europe/Berlin",
        "surgery_type": "fusion",
        "surgery_date": "2026-03-02",
        **extra,
    }
    response = await world.client.post(
        "/v1/patients", json=body, headers=world.auth(world.clinician_token)
    )
    assert response.status_code == 201, response.text
    pid: str = response.json()["id"]
    return pid


async def test_record_numbers_are_optional_unique_per_team_and_tell_namesakes_apart(
    world: World,
) -> None:
    first = await _patient(world, "Ann Same", record_number="MRN-0001")
    second = await _patient(world, "Ann Same")
    clash = await world.client.post(
        "/v1/patients",
        json={
            "display_name": "Ann Other",
            "birth_year": 1960,
            "tz": "Europe/Berlin",
            "surgery_type": "fusion",
            "surgery_date": "2026-03-02",
            "record_number": "MRN-0001",
        },
        headers=world.auth(world.clinician_token),
    )
    assert clash.status_code == 409
    assert "record number" in clash.json()["detail"]
    patched = await world.client.patch(
        f"/v1/patients/{second}",
        json={"record_number": "MRN-0002"},
        headers=world.auth(world.clinician_token),
    )
    assert patched.status_code == 200
    assert patched.json()["record_number"] == "MRN-0002"
    taken = await world.client.patch(
        f"/v1/patients/{second}",
        json={"record_number": "MRN-0001"},
        headers=world.auth(world.clinician_token),
    )
    assert taken.status_code == 409
    await web_login(world.client, "nurse@north.example")
    page = (await world.client.get("/team")).text
    assert '<span class="mrn">MRN-0001</span>' in page
    assert '<span class="mrn">MRN-0002</span>' in page
    found = (await world.client.get("/team", params={"q": "mrn-0002"})).text
    assert f'data-patient="{second}"' in found
    assert f'data-patient="{first}"' not in found
    assert "1 match" in found


async def test_an_over_target_day_ranks_above_on_track_with_its_reason(world: World) -> None:
    calm = await _patient(world, "Aaron Calm")
    busy = await _patient(world, "Zoe Busy")
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    yesterday = today - timedelta(days=1)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_day(conn, calm, day_summary(yesterday, minutes=18, status="on_track"))
        await store_day(conn, busy, day_summary(yesterday, minutes=75, status="above"))
        await store_day(conn, world.patient_id, day_summary(yesterday, minutes=5, status="below"))
    await web_login(world.client, "nurse@north.example")
    page = (await world.client.get("/team")).text
    assert _names(page)[:3] == ["Zoe Busy", "Berlin Patient", "Aaron Calm"]
    assert f"Over the plan on {yesterday.day} {yesterday.strftime('%b')}" in page
    # An open over-target alert makes it a warning, named with its start day.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day, last_day,"
            " message, notify) SELECT id, team_id, 'DAILY_OVER_TARGET', 'analysis', 'warning',"
            " %s, %s, 'over target', 'now' FROM patients WHERE id = %s",
            (yesterday, yesterday, busy),
        )
    page = (await world.client.get("/team")).text
    row = page.split(f'data-patient="{busy}"')[1].split("</tr>")[0]
    assert "Open warning" in row
    assert f"Over target since {yesterday.day} {yesterday.strftime('%b')}" in row
    only_over = (await world.client.get("/team", params={"status": "warning"})).text
    assert _names(only_over) == ["Zoe Busy"]
    by_name = (await world.client.get("/team", params={"sort": "name", "dir": "desc"})).text
    assert _names(by_name) == ["Zoe Busy", "Berlin Patient", "Aaron Calm"]
    assert 'aria-sort="descending"' in by_name


async def test_cleared_and_overdue_alerts_are_shown_as_such(world: World) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO alerts (patient_id, team_id, rule, source, severity, state, first_day,"
            " last_day, cleared_on, message, notify) SELECT id, team_id, 'HR_OVER_LIMIT',"
            " 'analysis', 'warning', 'cleared', %s, %s, %s, 'hr', 'now' FROM patients"
            " WHERE id = %s",
            (
                today - timedelta(days=5),
                today - timedelta(days=4),
                today - timedelta(days=2),
                world.patient_id,
            ),
        )
        await conn.execute(
            "INSERT INTO alerts (patient_id, team_id, rule, source, severity, first_day,"
            " last_day, message, notify, opened_at, urgent_since, reminded_at)"
            " SELECT id, team_id, 'RED_FLAG_SYMPTOM', 'checkin', 'urgent', %s, %s, 'red flag',"
            " 'now', now() - interval '6 hours', now() - interval '6 hours', now()"
            " FROM patients WHERE id = %s",
            (today, today, world.patient_id),
        )
    await web_login(world.client, "nurse@north.example")
    page = (await world.client.get("/team")).text
    row = page.split(f'data-patient="{world.patient_id}"')[1].split("</tr>")[0]
    assert "Urgent alert" in row
    assert "Overdue: red-flag symptom reported" in row
    assert "not acknowledged for 6 h" in row
    assert "1 overdue" in row
    assert "1 cleared, not reviewed" in row
    assert "Cleared, not reviewed: heart rate over limit" in row
    patient_page = (await world.client.get(f"/patients/{world.patient_id}")).text
    assert "cleared, not reviewed" in patient_page


async def test_last_data_is_the_newest_sample_beside_the_hubs_contact_and_battery(
    world: World,
) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE devices SET last_sample_at = now() - interval '3 hours 10 minutes',"
            " last_seen_at = now() - interval '5 minutes 10 seconds', battery_pct = 64"
            " WHERE patient_id = %s",
            (world.patient_id,),
        )
    await web_login(world.client, "nurse@north.example")
    page = (await world.client.get("/team")).text
    row = page.split(f'data-patient="{world.patient_id}"')[1].split("</tr>")[0]
    assert ">3 h ago</time>" in row
    assert "hub: contact 5 min ago, battery 64 %" in row
    detail = (await world.client.get(f"/patients/{world.patient_id}")).text
    assert "newest data 3 h ago · last contact 5 min ago · band battery 64 %" in detail


async def test_admins_see_each_rows_team_and_can_filter_by_team(world: World) -> None:
    await web_login(world.client, "admin@clinic.example")
    page = (await world.client.get("/team")).text
    assert '<th scope="col"><a href="/team?sort=team">Team' in page
    assert "<td>north</td>" in page
    assert "<td>south</td>" in page
    south = (await world.client.get("/team", params={"team": str(world.other_team_id)})).text
    assert _names(south) == ["Other Patient"]
    await web_login(world.client, "nurse@north.example")
    mine = (await world.client.get("/team")).text
    assert "sort=team" not in mine  # one team: no team column
