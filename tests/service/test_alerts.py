"""Alert episodes from daily flags: extend, clear after two calm judged days, persisting
conditions, suppression, budget; acknowledge and resolve through the API with filters."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from psycopg import AsyncConnection

import analysis
from service.alerts import on_day_summarised
from service.summaries import store_summary
from tests.fixtures.service import World
from tests.service.alert_days import flagged_day

DAY = date(2026, 5, 10)


async def _alerts(conn: AsyncConnection[Any], patient_id: object) -> list[tuple[Any, ...]]:
    cur = await conn.execute(
        "SELECT rule, state, first_day, last_day, severity, notify FROM alerts"
        " WHERE patient_id = %s ORDER BY id",
        (patient_id,),
    )
    return await cur.fetchall()


async def _summarise(world: World, summary: analysis.DaySummary) -> list[tuple[Any, ...]]:
    """Store the day's summary, then call the alerts, as the worker does."""
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        day = summary.date
        await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
        await on_day_summarised(conn, patient_id=world.patient_id, day=day, summary=summary)
        return await _alerts(conn, world.patient_id)


async def test_consecutive_days_extend_one_episode_and_two_clear_days_clear_it(
    world: World,
) -> None:
    for offset in range(3):
        rows = await _summarise(world, flagged_day(DAY + timedelta(days=offset), "HR_OVER_LIMIT"))
    assert rows == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=2), "warning", "digest")]
    # Recomputing a day inside the episode changes nothing.
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=1), "HR_OVER_LIMIT"))
    assert len(rows) == 1
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=3)))
    assert [r[:2] for r in rows] == [("HR_OVER_LIMIT", "open")]
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=4)))
    assert [r[:2] for r in rows] == [("HR_OVER_LIMIT", "cleared")]


async def _stored_day(world: World, day: date) -> None:
    """A stored summary without flags, as the worker leaves one before calling the alerts."""
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_summary(conn, patient_id=world.patient_id, day=day, summary=flagged_day(day))


async def test_a_gap_starts_a_new_episode_and_severity_only_rises(world: World) -> None:
    await _summarise(world, flagged_day(DAY, "DAILY_OVER_TARGET"))
    rows = await _summarise(world, flagged_day(DAY, "DAILY_OVER_TARGET", severity="urgent"))
    assert rows[0][4] == "urgent"
    # The two days in between were analysed without the flag: day 3 is a new episode, and the
    # first one (urgent, never acknowledged) waits in the queue as cleared, not reviewed.
    await _stored_day(world, DAY + timedelta(days=1))
    await _stored_day(world, DAY + timedelta(days=2))
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=3), "DAILY_OVER_TARGET"))
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("DAILY_OVER_TARGET", "cleared", DAY),
        ("DAILY_OVER_TARGET", "open", DAY + timedelta(days=3)),
    ]


async def test_days_analysed_out_of_order_keep_one_episode(world: World) -> None:
    await _summarise(world, flagged_day(DAY, "HR_OVER_LIMIT"))
    # Day 1 not analysed yet: day 2 extends the episode, and day 1 later falls inside it.
    await _summarise(world, flagged_day(DAY + timedelta(days=2), "HR_OVER_LIMIT"))
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=1), "HR_OVER_LIMIT"))
    assert [r[:4] for r in rows] == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=2))]


async def test_start_only_flags_last_while_the_condition_does(world: World) -> None:
    await _summarise(world, flagged_day(DAY, "NO_DATA", status="insufficient_data"))
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=1), status="insufficient_data"))
    assert rows[0][1:4] == ("open", DAY, DAY + timedelta(days=1))
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=2), status="on_track"))
    assert rows[0][1] == "open"
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=3), status="on_track"))
    assert rows[0][1:] == ("cleared", DAY, DAY + timedelta(days=1), "warning", "digest")


async def test_suppression_window_and_weekly_budget_hold_back_notifications(
    world: World,
) -> None:
    # The same rule's episode ended 3 days (72 h) before: a new episode is recorded, not notified.
    await _summarise(world, flagged_day(DAY, "HR_OVER_LIMIT"))
    await _summarise(world, flagged_day(DAY + timedelta(days=1)))
    await _summarise(world, flagged_day(DAY + timedelta(days=2)))
    rows = await _summarise(world, flagged_day(DAY + timedelta(days=3), "HR_OVER_LIMIT"))
    assert [r[1] for r in rows] == ["cleared", "open"]
    assert rows[-1][5] == "suppressed"
    # Budget 2 per week: the third distinct rule is held back; urgent is never held back.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE patients SET alert_weekly_budget = 2, alert_suppression_h = 0 WHERE id = %s",
            (world.patient_id,),
        )
    day = DAY + timedelta(days=10)
    rows = await _summarise(
        world, flagged_day(day, "RAMP_TOO_FAST", "DAILY_OVER_TARGET", "SESSION_TOO_LONG")
    )
    # Rules are taken in code order; the budget counts episodes whose first day is in the week
    # up to this day (the HR_OVER_LIMIT ones started earlier).
    assert {r[0]: r[5] for r in rows if r[2] == day} == {
        "DAILY_OVER_TARGET": "digest",
        "RAMP_TOO_FAST": "digest",
        "SESSION_TOO_LONG": "budget",
    }
    rows = await _summarise(
        world, flagged_day(day + timedelta(days=1), "BELOW_TARGET_STREAK", severity="info")
    )
    assert rows[-1][0::5] == ("BELOW_TARGET_STREAK", "none")  # info never notifies
    rows = await _summarise(
        world, flagged_day(day, "HIGH_IMPACT_BEFORE_CLEARANCE", severity="urgent")
    )
    assert {r[0]: r[5] for r in rows}["HIGH_IMPACT_BEFORE_CLEARANCE"] == "now"


async def test_acknowledge_resolve_and_filters_through_the_api(world: World) -> None:
    summary = flagged_day(DAY, "HR_OVER_LIMIT", "SESSION_TOO_LONG")
    over, long = summary.flags
    await _summarise(world, replace(summary, flags=(over, replace(long, severity="info"))))
    client, nurse = world.client, world.auth(world.clinician_token)
    listed = (await client.get("/v1/alerts", params={"severity": "warning"}, headers=nurse)).json()
    assert [a["rule"] for a in listed] == ["HR_OVER_LIMIT"]
    alert_id = listed[0]["id"]
    # Another team's clinician neither sees nor acts on it.
    other = world.auth(world.other_clinician_token)
    assert (await client.get("/v1/alerts", headers=other)).json() == []
    response = await client.post(f"/v1/alerts/{alert_id}/acknowledge", json={}, headers=other)
    assert response.status_code == 404
    # The patient sees their alerts but may not acknowledge them.
    mine = (await client.get("/v1/alerts", headers=world.auth(world.patient_token))).json()
    assert len(mine) == 2
    response = await client.post(
        f"/v1/alerts/{alert_id}/acknowledge", json={}, headers=world.auth(world.patient_token)
    )
    assert response.status_code == 403
    response = await client.post(
        f"/v1/alerts/{alert_id}/acknowledge", json={"note": "called"}, headers=nurse
    )
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    assert response.json()["ack_note"] == "called"
    response = await client.post(
        f"/v1/alerts/{alert_id}/acknowledge", json={"note": "again"}, headers=nurse
    )
    assert response.status_code == 409
    response = await client.post(
        f"/v1/alerts/{alert_id}/resolve", json={"note": "ok"}, headers=nurse
    )
    assert response.json()["state"] == "resolved"
    states = await client.get("/v1/alerts", params={"state": "resolved"}, headers=nurse)
    assert [a["id"] for a in states.json()] == [alert_id]
    # An acknowledged-then-resolved episode is not extended by a recomputation of its day.
    rows = await _summarise(world, flagged_day(DAY, "HR_OVER_LIMIT"))
    assert sum(r[0] == "HR_OVER_LIMIT" for r in rows) == 1


async def test_alert_list_is_paged_with_a_link_header(world: World) -> None:
    # A flagged day, then two calm days, five times: five episodes.
    for offset in range(13):
        codes = ("HR_OVER_LIMIT",) if offset % 3 == 0 else ()
        await _summarise(world, flagged_day(DAY + timedelta(days=offset), *codes))
    nurse = world.auth(world.clinician_token)
    first = await world.client.get("/v1/alerts", params={"limit": 3}, headers=nurse)
    assert len(first.json()) == 3
    next_url = first.headers["link"].split(">")[0].lstrip("<")
    second = await world.client.get(next_url, headers=nurse)
    assert len(second.json()) == 2
    assert "link" not in second.headers
    ids = [a["id"] for a in first.json() + second.json()]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 5


async def test_concurrent_summaries_of_one_patient_share_one_episode(world: World) -> None:
    async def one(offset: int) -> None:
        async with await AsyncConnection.connect(world.db_url) as conn, conn.transaction():
            # As in the worker: the summary row (a key-share lock on the patient) comes first.
            day = DAY + timedelta(days=offset)
            summary = flagged_day(day, "HR_OVER_LIMIT")
            await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
            await on_day_summarised(conn, patient_id=world.patient_id, day=day, summary=summary)

    await asyncio.gather(*(one(offset) for offset in range(4)))
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        rows = await _alerts(conn, world.patient_id)
    assert [r[:4] for r in rows] == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=3))]
