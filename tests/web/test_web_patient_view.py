"""The patient's view tells the truth: advice instead of praise, today in progress, own reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

import analysis
from tests.fixtures.service import World
from tests.web.web_helpers import csrf_of, day_summary, store_day, web_login

OVER = analysis.Flag(
    code="DAILY_OVER_TARGET",
    severity="warning",
    message="Doing much more than planned can slow healing: rest for the rest of today.",
    evidence={"aerobic_minutes": 75, "aerobic_min_high": 20, "week": 2},
)
TOO_LONG = analysis.Flag(
    code="SESSION_TOO_LONG",
    severity="warning",
    message="Split long walks into shorter ones.",
    evidence={"duration_min": 75, "max_session_min": 20, "week": 2},
)


def _today() -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin"))


async def test_over_the_plan_gets_advice_never_praise(world: World) -> None:
    today = _today().date()
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for back in (3, 2):
            day = today - timedelta(days=back)
            await store_day(
                conn,
                world.patient_id,
                day_summary(day, minutes=18, status="on_track", sessions_min=(18,)),
            )
        yesterday = today - timedelta(days=1)
        await store_day(
            conn,
            world.patient_id,
            day_summary(
                yesterday, minutes=75, status="above", sessions_min=(75,), flags=(OVER, TOO_LONG)
            ),
        )
        await store_day(
            conn,
            world.patient_id,
            day_summary(
                today, minutes=75, status="in_progress", sessions_min=(75,), flags=(OVER, TOO_LONG)
            ),
        )
    await web_login(world.client, "patient@north.example")
    page = (await world.client.get("/me")).text
    assert "Well done" not in page
    assert "Today you have done more than your plan" in page
    assert "75 minutes against a plan of at most 20" in page
    assert "Please rest for the rest of today." in page
    assert "Split long walks" in page
    assert OVER.message in page  # the patient-worded flag messages of the day
    assert "0 days in a row" in page  # the over-target day breaks the streak
    assert 'class="day over-plan"' in page
    # Only on-track days earn the tick: two of them this week at most, never the over days.
    assert page.count('<span class="mark" aria-hidden="true">✓</span>') <= 2


async def test_today_is_in_progress_and_streaks_count_on_track_days_only(world: World) -> None:
    today = _today().date()
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for back in (2, 1):
            day = today - timedelta(days=back)
            await store_day(conn, world.patient_id, day_summary(day, minutes=18, status="on_track"))
        await store_day(conn, world.patient_id, day_summary(today, minutes=3, status="in_progress"))
    await web_login(world.client, "patient@north.example")
    page = (await world.client.get("/me")).text
    assert "Today is in progress." in page
    assert "Below target" not in page
    assert 'class="day below-goal"' not in page
    assert "2 days in a row" in page
    assert 'class="day in-progress"' in page


async def test_check_ins_of_today_are_shown_and_an_empty_one_is_refused(world: World) -> None:
    await web_login(world.client, "patient@north.example")
    page = (await world.client.get("/me")).text
    assert "Nothing sent yet today." in page
    csrf = csrf_of(page)
    empty = await world.client.post(
        "/me/checkin", data={"csrf": csrf, "stretching_sessions": "0", "note": "  "}
    )
    assert empty.status_code == 303
    refused = await world.client.get(empty.headers["location"])
    assert "Your check-in was empty, so nothing was sent" in refused.text
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM checkins WHERE patient_id = %s", (world.patient_id,)
        )
        assert await cur.fetchone() == (0,)
    sent = await world.client.post(
        "/me/checkin",
        data={"csrf": csrf, "pain_0_10": "4", "stretching_sessions": "2", "note": "stiff back"},
    )
    assert sent.status_code == 303
    page = (await world.client.get("/me")).text
    assert "Already sent today" in page
    assert "pain 4/10, 2 stretching session(s)" in page
    assert "stiff back" in page
