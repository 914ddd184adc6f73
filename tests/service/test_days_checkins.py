"""Check-ins appear in the daily summaries the API serves."""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection
from pydantic import TypeAdapter

from service.summaries import DayPlaceholderOut, ServedDay, StoredDayOut
from service.worker import queue_days
from tests.fixtures.service import World
from tests.service.test_analysis_integration import _drain

DAY = "2026-05-10"


async def test_days_and_one_day_carry_that_days_checkins(world: World) -> None:
    response = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={
            "day": DAY,
            "pain_0_10": 4,
            "stretching_sessions": 2,
            "strength_session": True,
            "activities": [{"kind": "other", "minutes": 15}],
            "note": "walked to the shop – Müller’s bakery",
        },
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 201, response.text
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        # As if the band had sent data from that day on (days before are never judged).
        await conn.execute(
            "UPDATE patients SET monitoring_from = '2026-05-09' WHERE id = %s", (world.patient_id,)
        )
        await queue_days(
            conn, patient_id=world.patient_id, first=date(2026, 5, 9), last=date(2026, 5, 10)
        )
    await _drain(world.db_url)
    headers = world.auth(world.clinician_token)
    days = (
        await world.client.get(
            f"/v1/patients/{world.patient_id}/days",
            params={"from": "2026-05-09", "to": DAY},
            headers=headers,
        )
    ).json()
    by_date = {d["date"]: d for d in days}
    assert by_date["2026-05-09"]["checkins"] == []
    (checkin,) = by_date[DAY]["checkins"]
    assert checkin["pain_0_10"] == 4
    assert checkin["stretching_sessions"] == 2
    assert checkin["strength_session"] is True
    assert checkin["activities"] == [{"kind": "other", "minutes": 15}]
    assert checkin["red_flags"] == []
    assert checkin["note"] == "walked to the shop – Müller’s bakery"
    assert checkin["created_at"].endswith("Z")
    assert by_date[DAY]["status"] not in ("not_monitored", "pending", "in_progress")
    one = (
        await world.client.get(f"/v1/patients/{world.patient_id}/days/{DAY}", headers=headers)
    ).json()
    assert one["checkins"] == by_date[DAY]["checkins"]
    assert one["status"] == by_date[DAY]["status"]

    # One check-in shape: the days route serves the same fields and values as GET /checkins.
    listed = (
        await world.client.get(
            f"/v1/patients/{world.patient_id}/checkins",
            params={"from": DAY, "to": DAY},
            headers=headers,
        )
    ).json()
    assert listed == by_date[DAY]["checkins"]
    # Every item is what the OpenAPI says: a stored summary or a placeholder.
    served = TypeAdapter(list[ServedDay]).validate_python(days)
    assert isinstance(served[-1], StoredDayOut)
    assert all(isinstance(d, StoredDayOut | DayPlaceholderOut) for d in served)
    assert "day_start_s" not in by_date[DAY]
    assert by_date[DAY]["heart_rate"]["min"] == by_date[DAY]["heart_rate"]["min_bpm"]
