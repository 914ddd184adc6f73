"""Alert episodes from daily flags: extend, clear after two calm judged days, persisting
conditions, suppression, budget; acknowledge and resolve through the API with filters."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import orjson
from psycopg import AsyncConnection

from service.alerts import on_day_summarised
from tests.fixtures.service import World

DAY = date(2026, 5, 10)


def _summary(*codes: str, severity: str = "warning", status: str = "on_track") -> dict[str, Any]:
    return {
        "date": DAY.isoformat(),
        "status": status,
        "heart_rate": {"resting_elevated": False},
        "flags": [
            {"code": c, "severity": severity, "message": f"{c} message", "evidence": {}}
            for c in codes
        ],
    }


async def _alerts(conn: AsyncConnection[Any], patient_id: object) -> list[tuple[Any, ...]]:
    cur = await conn.execute(
        "SELECT rule, state, first_day, last_day, severity, notify FROM alerts"
        " WHERE patient_id = %s ORDER BY id",
        (patient_id,),
    )
    return await cur.fetchall()


async def _summarise(world: World, day: date, summary: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Store the day's summary row, then call the alerts, as the worker does."""
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
            " status, summary, analysis_version, flag_codes)"
            " VALUES (%s, %s, 0, 0, 0, %s, %s, 'test', %s) ON CONFLICT (patient_id, day)"
            " DO UPDATE SET status = EXCLUDED.status, summary = EXCLUDED.summary,"
            " flag_codes = EXCLUDED.flag_codes",
            (
                world.patient_id,
                day,
                summary["status"],
                orjson.dumps(summary).decode(),
                [f["code"] for f in summary["flags"]],
            ),
        )
        await on_day_summarised(conn, patient_id=world.patient_id, day=day, summary=summary)
        return await _alerts(conn, world.patient_id)


async def test_consecutive_days_extend_one_episode_and_two_clear_days_clear_it(
    world: World,
) -> None:
    for offset in range(3):
        rows = await _summarise(world, DAY + timedelta(days=offset), _summary("HR_OVER_LIMIT"))
    assert rows == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=2), "warning", "digest")]
    # Recomputing a day inside the episode changes nothing.
    rows = await _summarise(world, DAY + timedelta(days=1), _summary("HR_OVER_LIMIT"))
    assert len(rows) == 1
    rows = await _summarise(world, DAY + timedelta(days=3), _summary())
    assert [r[:2] for r in rows] == [("HR_OVER_LIMIT", "open")]
    rows = await _summarise(world, DAY + timedelta(days=4), _summary())
    assert [r[:2] for r in rows] == [("HR_OVER_LIMIT", "cleared")]


async def _stored_day(world: World, day: date, *flag_codes: str) -> None:
    """A stored summary row, as the worker leaves one before calling the alerts."""
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
            " status, summary, analysis_version, flag_codes)"
            " VALUES (%s, %s, 0, 0, 0, 'on_track', '{}', 'test', %s)",
            (world.patient_id, day, list(flag_codes)),
        )


async def test_a_gap_starts_a_new_episode_and_severity_only_rises(world: World) -> None:
    await _summarise(world, DAY, _summary("DAILY_OVER_TARGET"))
    rows = await _summarise(world, DAY, _summary("DAILY_OVER_TARGET", severity="urgent"))
    assert rows[0][4] == "urgent"
    # The two days in between were analysed without the flag: day 3 is a new episode, and the
    # first one (urgent, never acknowledged) waits in the queue as cleared, not reviewed.
    await _stored_day(world, DAY + timedelta(days=1))
    await _stored_day(world, DAY + timedelta(days=2))
    rows = await _summarise(world, DAY + timedelta(days=3), _summary("DAILY_OVER_TARGET"))
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("DAILY_OVER_TARGET", "cleared", DAY),
        ("DAILY_OVER_TARGET", "open", DAY + timedelta(days=3)),
    ]


async def test_days_analysed_out_of_order_keep_one_episode(world: World) -> None:
    await _summarise(world, DAY, _summary("HR_OVER_LIMIT"))
    # Day 1 not analysed yet: day 2 extends the episode, and day 1 later falls inside it.
    await _summarise(world, DAY + timedelta(days=2), _summary("HR_OVER_LIMIT"))
    rows = await _summarise(world, DAY + timedelta(days=1), _summary("HR_OVER_LIMIT"))
    assert [r[:4] for r in rows] == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=2))]


async def test_start_only_flags_last_while_the_condition_does(world: World) -> None:
    await _summarise(world, DAY, _summary("NO_DATA", status="insufficient_data"))
    rows = await _summarise(world, DAY + timedelta(days=1), _summary(status="insufficient_data"))
    assert rows[0][1:4] == ("open", DAY, DAY + timedelta(days=1))
    rows = await _summarise(world, DAY + timedelta(days=2), _summary(status="on_track"))
    assert rows[0][1] == "open"
    rows = await _summarise(world, DAY + timedelta(days=3), _summary(status="on_track"))
    assert rows[0][1:] == ("cleared", DAY, DAY + timedelta(days=1), "warning", "digest")


async def test_suppression_window_and_weekly_budget_hold_back_notifications(
    world: World,
) -> None:
    # The same rule's episode ended 3 days (72 h) before: a new episode is recorded, not notified.
    await _summarise(world, DAY, _summary("HR_OVER_LIMIT"))
    await _summarise(world, DAY + timedelta(days=1), _summary())
    await _summarise(world, DAY + timedelta(days=2), _summary())
    rows = await _summarise(world, DAY + timedelta(days=3), _summary("HR_OVER_LIMIT"))
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
        world, day, _summary("RAMP_TOO_FAST", "DAILY_OVER_TARGET", "SESSION_TOO_LONG")
    )
    # Rules are taken in code order; the budget counts episodes whose first day is in the week
    # up to this day (the HR_OVER_LIMIT ones started earlier).
    assert {r[0]: r[5] for r in rows if r[2] == day} == {
        "DAILY_OVER_TARGET": "digest",
        "RAMP_TOO_FAST": "digest",
        "SESSION_TOO_LONG": "budget",
    }
    rows = await _summarise(
        world, day + timedelta(days=1), _summary("BELOW_TARGET_STREAK", severity="info")
    )
    assert rows[-1][0::5] == ("BELOW_TARGET_STREAK", "none")  # info never notifies
    rows = await _summarise(world, day, _summary("HIGH_IMPACT_BEFORE_CLEARANCE", severity="urgent"))
    assert {r[0]: r[5] for r in rows}["HIGH_IMPACT_BEFORE_CLEARANCE"] == "now"


async def test_acknowledge_resolve_and_filters_through_the_api(world: World) -> None:
    summary = _summary("HR_OVER_LIMIT", "SESSION_TOO_LONG")
    summary["flags"][1]["severity"] = "info"
    await _summarise(world, DAY, summary)
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
    rows = await _summarise(world, DAY, _summary("HR_OVER_LIMIT"))
    assert sum(r[0] == "HR_OVER_LIMIT" for r in rows) == 1


async def test_alert_list_is_paged_with_a_link_header(world: World) -> None:
    # A flagged day, then two calm days, five times: five episodes.
    for offset in range(13):
        codes = ("HR_OVER_LIMIT",) if offset % 3 == 0 else ()
        await _summarise(world, DAY + timedelta(days=offset), _summary(*codes))
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
            await conn.execute(
                "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes,"
                " active_minutes, status, summary, analysis_version, flag_codes)"
                " VALUES (%s, %s, 0, 0, 0, 'on_track', '{}', 'test', '{HR_OVER_LIMIT}')",
                (world.patient_id, DAY + timedelta(days=offset)),
            )
            await on_day_summarised(
                conn,
                patient_id=world.patient_id,
                day=DAY + timedelta(days=offset),
                summary=_summary("HR_OVER_LIMIT"),
            )

    await asyncio.gather(*(one(offset) for offset in range(4)))
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        rows = await _alerts(conn, world.patient_id)
    assert [r[:4] for r in rows] == [("HR_OVER_LIMIT", "open", DAY, DAY + timedelta(days=3))]
