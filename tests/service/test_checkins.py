"""Check-ins: stored per patient-local day, shown per day, activity before clearance warns."""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection

from service.checkins import checkins_for_days, self_logged_minutes
from tests.fixtures.service import World

DAY = "2026-05-10"


async def _checkin(world: World, token: str, **body: object) -> dict[str, object]:
    response = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={"day": DAY, **body},
        headers=world.auth(token),
    )
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


async def test_checkins_are_listed_per_day_for_the_days_route(world: World) -> None:
    await _checkin(
        world,
        world.patient_token,
        pain_0_10=3,
        stretching_sessions=2,
        strength_session=True,
        activities=[{"kind": "other", "minutes": 15}],
        note="stiff in the morning",
    )
    await _checkin(world, world.clinician_token, activities=[{"kind": "other", "minutes": 10}])
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        by_day = await checkins_for_days(
            conn, patient_id=world.patient_id, first=date(2026, 5, 9), last=date(2026, 5, 11)
        )
        minutes = await self_logged_minutes(
            conn, patient_id=world.patient_id, first=date(2026, 5, 10), last=date(2026, 5, 10)
        )
    assert list(by_day) == [date(2026, 5, 10)]
    first = by_day[date(2026, 5, 10)][0]
    assert (first.pain_0_10, first.stretching_sessions, first.strength_session) == (
        3,
        2,
        True,
    )
    assert [a.model_dump() for a in first.activities] == [{"kind": "other", "minutes": 15}]
    assert minutes == {date(2026, 5, 10): {"other": 25}}
    listed = await world.client.get(
        f"/v1/patients/{world.patient_id}/checkins",
        params={"from": DAY, "to": DAY},
        headers=world.auth(world.patient_token),
    )
    assert [c["note"] for c in listed.json()] == ["stiff in the morning", ""]


async def test_swimming_before_clearance_raises_a_warning_once_per_episode(world: World) -> None:
    await _checkin(world, world.patient_token, activities=[{"kind": "swimming", "minutes": 20}])
    await _checkin(world, world.patient_token, activities=[{"kind": "swimming", "minutes": 10}])
    alerts = await world.client.get("/v1/alerts", headers=world.auth(world.clinician_token))
    assert [(a["rule"], a["severity"], a["notify"]) for a in alerts.json()] == [
        ("ACTIVITY_BEFORE_CLEARANCE", "warning", "digest")
    ]


async def test_swimming_after_clearance_is_fine(world: World) -> None:
    response = await world.client.patch(
        f"/v1/patients/{world.patient_id}",
        json={"swimming_cleared_on": "2026-05-01"},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200
    await _checkin(world, world.patient_token, activities=[{"kind": "swimming", "minutes": 20}])
    alerts = await world.client.get("/v1/alerts", headers=world.auth(world.clinician_token))
    assert alerts.json() == []


async def test_bad_checkins_are_refused_with_the_field_named(world: World) -> None:
    for body, field in (
        ({"pain_0_10": 11}, "pain_0_10"),
        ({"red_flags": ["headache"]}, "red_flags"),
        ({"activities": [{"kind": "running", "minutes": 5}]}, "activities"),
    ):
        response = await world.client.post(
            f"/v1/patients/{world.patient_id}/checkins",
            json=body,
            headers=world.auth(world.patient_token),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][0] == field
