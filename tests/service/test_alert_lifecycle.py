"""The alert lifecycle: days in progress or without data never clear an alert, two complete judged
days do; cleared, unreviewed alerts wait for a person; overdue urgent alerts remind once; a new
red flag after a resolved one notifies; suppression and budget count alert days (backfill)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
from psycopg import AsyncConnection

import analysis
from analysis.config import Severity
from service.alerts import AlertWatch, on_day_summarised
from service.db import make_pool
from service.notify import Notifier
from service.summaries import store_summary
from tests.fixtures.service import World, make_settings
from tests.service.alert_days import flagged_day
from tests.service.notify_helpers import webhook_receiver

DAY = date(2026, 11, 30)


async def _day(
    world: World,
    day: date,
    *codes: analysis.FlagCode,
    status: analysis.DayStatus,
    severity: Severity = "warning",
) -> list[tuple[Any, ...]]:
    """Store a day's summary and call the alerts, as the worker does; the patient's alerts."""
    summary = flagged_day(day, *codes, status=status, severity=severity)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
        await on_day_summarised(conn, patient_id=world.patient_id, day=day, summary=summary)
        cur = await conn.execute(
            "SELECT rule, state, first_day, last_day, cleared_on, notify FROM alerts"
            " WHERE patient_id = %s ORDER BY id",
            (world.patient_id,),
        )
        return await cur.fetchall()


async def test_an_over_target_alert_stays_open_after_todays_first_minutes(world: World) -> None:
    rows = await _day(world, DAY, "DAILY_OVER_TARGET", status="above")
    assert rows == [("DAILY_OVER_TARGET", "open", DAY, DAY, None, "digest")]
    today = DAY + timedelta(days=1)
    # Today's first minutes analysed: 0 minutes, in progress. Then a day without data.
    rows = await _day(world, today, status="in_progress")
    assert rows[0][1] == "open"
    rows = await _day(world, today, status="insufficient_data")
    assert rows[0][1] == "open"
    # The first complete, judged day without the condition is not enough.
    rows = await _day(world, today, status="on_track")
    assert rows[0][1] == "open"
    # A day not analysed yet (DAY + 2) neither counts nor breaks: DAY + 3 is the second calm day.
    rows = await _day(world, DAY + timedelta(days=3), status="in_progress")
    assert rows[0][1] == "open"
    rows = await _day(world, DAY + timedelta(days=3), status="below")
    assert rows == [("DAILY_OVER_TARGET", "cleared", DAY, DAY, DAY + timedelta(days=3), "digest")]


async def test_overdoing_it_again_the_next_days_keeps_the_alert_open(world: World) -> None:
    # The analysis raises DAILY_OVER_TARGET at most once a week; the days after it, still above
    # the plan, carry no flag but the same behaviour: they must not clear the alert.
    await _day(world, DAY, "DAILY_OVER_TARGET", status="above")
    for k in (1, 2, 3):
        rows = await _day(world, DAY + timedelta(days=k), status="above")
        assert rows[0][:2] == ("DAILY_OVER_TARGET", "open")
    assert rows[0][3] == DAY + timedelta(days=3)  # the episode's last day follows the behaviour
    await _day(world, DAY + timedelta(days=4), status="on_track")
    rows = await _day(world, DAY + timedelta(days=5), status="on_track")
    assert rows[0][1:5] == ("cleared", DAY, DAY + timedelta(days=3), DAY + timedelta(days=5))


async def test_cleared_not_reviewed_stays_in_the_queue_until_acknowledged(world: World) -> None:
    await _day(world, DAY, "HR_OVER_LIMIT", status="on_track")
    await _day(world, DAY + timedelta(days=1), status="on_track")
    await _day(world, DAY + timedelta(days=2), status="on_track")
    nurse = world.auth(world.clinician_token)
    listed = await world.client.get("/v1/alerts", params={"state": "cleared"}, headers=nurse)
    [alert] = listed.json()
    assert (alert["state"], alert["cleared_on"], alert["overdue"]) == (
        "cleared",
        "2026-12-02",
        False,
    )
    # More calm days change nothing: it waits for a person.
    await _day(world, DAY + timedelta(days=3), status="on_track")
    assert (await world.client.get("/v1/alerts", headers=nurse)).json()[0]["state"] == "cleared"
    response = await world.client.post(
        f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "looked at it"}, headers=nurse
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["ack_note"], body["resolved_by"] is not None) == (
        "resolved",
        "looked at it",
        True,
    )
    again = await world.client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={}, headers=nurse)
    assert again.status_code == 409
    # The condition comes back: a new episode, the resolved one untouched.
    rows = await _day(world, DAY + timedelta(days=10), "HR_OVER_LIMIT", status="on_track")
    assert [r[1] for r in rows] == ["resolved", "open"]


async def test_an_acknowledged_alert_resolves_when_its_condition_clears(world: World) -> None:
    await _day(world, DAY, "SESSION_TOO_LONG", status="above")
    nurse = world.auth(world.clinician_token)
    [alert] = (await world.client.get("/v1/alerts", headers=nurse)).json()
    await world.client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={}, headers=nurse)
    await _day(world, DAY + timedelta(days=1), status="on_track")
    rows = await _day(world, DAY + timedelta(days=2), status="on_track")
    assert rows[0][1] == "resolved"
    [alert] = (await world.client.get("/v1/alerts", headers=nurse)).json()
    assert alert["resolve_note"] == "condition cleared on 2026-12-02"


async def test_info_alerts_leave_the_queue_without_review(world: World) -> None:
    await _day(world, DAY, "SESSION_TOO_LONG", status="on_track", severity="info")
    await _day(world, DAY + timedelta(days=1), status="on_track")
    rows = await _day(world, DAY + timedelta(days=2), status="on_track")
    assert rows == [("SESSION_TOO_LONG", "resolved", DAY, DAY, DAY + timedelta(days=2), "none")]


async def test_a_recomputed_clearing_day_with_the_condition_reopens_the_alert(
    world: World,
) -> None:
    await _day(world, DAY, "DAILY_OVER_TARGET", status="above")
    await _day(world, DAY + timedelta(days=1), status="on_track")
    rows = await _day(world, DAY + timedelta(days=2), status="on_track")
    assert rows[0][1] == "cleared"
    # Late data: the first calm day was over target after all.
    rows = await _day(world, DAY + timedelta(days=1), "DAILY_OVER_TARGET", status="above")
    assert rows == [("DAILY_OVER_TARGET", "open", DAY, DAY + timedelta(days=1), None, "digest")]


async def _checkin(world: World, token: str, **body: object) -> dict[str, Any]:
    response = await world.client.post(
        f"/v1/patients/{world.patient_id}/checkins",
        json={"day": "2026-12-01", **body},
        headers=world.auth(token),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _add_webhook(world: World, url: str) -> None:
    response = await world.client.post(
        f"/v1/teams/{world.team_id}/notification-targets",
        json={"kind": "webhook", "address": url},
        headers=world.auth(world.admin_token),
    )
    assert response.status_code == 201, response.text


async def test_a_second_red_flag_after_resolve_opens_a_new_alert_and_notifies(
    world: World,
) -> None:
    nurse = world.auth(world.clinician_token)
    with webhook_receiver(200) as receiver:
        await _add_webhook(world, receiver.url)
        first = await _checkin(world, world.patient_token, red_flags=["sharp_pain"])
        assert first["urgent_notifications"] == 1
        # Before anyone looked, a second report joins the open alert.
        again = await _checkin(world, world.patient_token, red_flags=["fever"])
        assert again["urgent_notifications"] == 0
        [alert] = (await world.client.get("/v1/alerts", headers=nurse)).json()
        response = await world.client.post(
            f"/v1/alerts/{alert['id']}/resolve", json={"note": "called"}, headers=nurse
        )
        assert response.status_code == 200
        # The same day, after the resolve: numbness, sharp pain, pain 10.
        second = await _checkin(
            world,
            world.patient_token,
            pain_0_10=10,
            red_flags=["numbness_or_weakness", "sharp_pain"],
        )
        assert second["urgent_notifications"] == 1
        # After an acknowledgement, a new report is new too.
        alerts = (await world.client.get("/v1/alerts", headers=nurse)).json()
        await world.client.post(f"/v1/alerts/{alerts[0]['id']}/acknowledge", json={}, headers=nurse)
        third = await _checkin(world, world.patient_token, red_flags=["fever"])
        assert third["urgent_notifications"] == 1
        assert len(receiver.requests) == 3
    alerts = (await world.client.get("/v1/alerts", headers=nurse)).json()
    assert [(a["rule"], a["state"], a["severity"]) for a in alerts] == [
        ("RED_FLAG_SYMPTOM", "open", "urgent"),
        ("RED_FLAG_SYMPTOM", "resolved", "urgent"),
        ("RED_FLAG_SYMPTOM", "resolved", "urgent"),
    ]
    assert alerts[1]["resolve_note"] == "followed by a new report on 2026-12-01"
    bodies = [orjson.loads(body) for _, body in receiver.requests]
    assert [b["alerts"][0]["alert_id"] for b in bodies] == [a["id"] for a in reversed(alerts)]


async def test_an_unacknowledged_urgent_alert_reminds_once_and_shows_overdue(
    world: World,
) -> None:
    nurse = world.auth(world.clinician_token)
    with webhook_receiver(200) as receiver:
        await _add_webhook(world, receiver.url)
        await _checkin(world, world.patient_token, red_flags=["numbness_or_weakness"])
        [alert] = (await world.client.get("/v1/alerts", headers=nurse)).json()
        opened = datetime.fromisoformat(alert["opened_at"])
        settings = make_settings(world.db_url)
        async with make_pool(world.db_url, settings) as pool:
            notifier = Notifier(pool, settings, checks=(AlertWatch(settings),))
            # Three hours later nothing happens; past the 4-hour timeout, one reminder.
            assert await notifier.run_checks(now=opened + timedelta(hours=3)) == []
            reminders = await notifier.run_checks(now=opened + timedelta(hours=4, minutes=1))
            assert len(reminders) == 1
            assert await notifier.run_checks(now=opened + timedelta(hours=9)) == []
            assert await notifier.deliver_due() == 1
            await notifier.stop()
        assert len(receiver.requests) == 2
    reminder = orjson.loads(receiver.requests[1][1])
    assert reminder["type"] == "reminder"
    assert [(a["alert_id"], a["overdue"]) for a in reminder["alerts"]] == [(alert["id"], True)]
    overdue = await world.client.get("/v1/alerts", params={"overdue": "true"}, headers=nurse)
    assert [a["id"] for a in overdue.json()] == [alert["id"]]
    response = await world.client.post(
        f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "on it"}, headers=nurse
    )
    assert response.json()["overdue"] is False
    overdue = await world.client.get("/v1/alerts", params={"overdue": "true"}, headers=nurse)
    assert overdue.json() == []


async def test_a_backfill_counts_suppression_and_budget_on_alert_days(world: World) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE patients SET alert_weekly_budget = 1, alert_suppression_h = 72 WHERE id = %s",
            (world.patient_id,),
        )
    # Old days analysed within seconds, in order: on the wall clock every episode would have
    # "resolved moments ago" and "this week"; on the alerts' days most were not.
    start = date(2026, 6, 1)
    plan = {
        0: "HR_OVER_LIMIT",  # notified: the week's budget of one is spent
        1: "SESSION_TOO_LONG",  # the same week: held back by the budget
        5: "HR_OVER_LIMIT",  # day 0's episode ended 5 days (120 h) before; budget still spent
        9: "HR_OVER_LIMIT",  # a new week: notified (day 5's episode ended 96 h before)
        12: "HR_OVER_LIMIT",  # day 9's episode ended 72 h before: suppressed
        17: "HR_OVER_LIMIT",  # 5 days after; the week's only notification was day 9's, 8 days ago
    }
    for offset in range(18):
        codes = (plan[offset],) if offset in plan else ()
        rows = await _day(world, start + timedelta(days=offset), *codes, status="on_track")
    assert [(r[0], (r[2] - start).days, r[5]) for r in rows] == [
        ("HR_OVER_LIMIT", 0, "digest"),
        ("SESSION_TOO_LONG", 1, "budget"),
        ("HR_OVER_LIMIT", 5, "budget"),
        ("HR_OVER_LIMIT", 9, "digest"),
        ("HR_OVER_LIMIT", 12, "suppressed"),
        ("HR_OVER_LIMIT", 17, "digest"),
    ]
