"""The care team's list reads each stored day's brief once per stored version: a day stored
again, rewritten by any statement, or deleted shows on the next refresh; the briefs equal those
of the stored summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from service.summaries import DayBrief, summary_briefs
from tests.fixtures.service import World
from tests.web.web_helpers import day_summary, store_day, web_login


def _row(page: str, patient_id: UUID | str) -> str:
    return page.split(f'data-patient="{patient_id}"')[1].split("</tr>", maxsplit=1)[0]


async def test_a_day_stored_again_or_rewritten_shows_on_the_next_refresh(world: World) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    yesterday = today - timedelta(days=1)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_day(conn, world.patient_id, day_summary(yesterday, minutes=5, status="below"))
    await web_login(world.client, "nurse@north.example")
    row = _row((await world.client.get("/team")).text, world.patient_id)
    assert "Below target" in row
    # Stored again by the worker's path: the new brief is read.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_day(conn, world.patient_id, day_summary(yesterday, minutes=75, status="above"))
    row = _row((await world.client.get("/team")).text, world.patient_id)
    assert f"Over the plan on {yesterday.day} {yesterday.strftime('%b')}" in row
    # Rewritten by a statement that leaves computed_at as it was: still read again.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE daily_summaries SET summary = jsonb_set(jsonb_set(summary, '{status}',"
            " '\"below\"'), '{aerobic_minutes}', '5'), status = 'below', aerobic_minutes = 5"
            " WHERE patient_id = %s AND day = %s",
            (world.patient_id, yesterday),
        )
    row = _row((await world.client.get("/team")).text, world.patient_id)
    assert "Below target" in row
    assert "Over the plan" not in row
    # Deleted: the day is gone from the list.
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await conn.execute(
            "DELETE FROM daily_summaries WHERE patient_id = %s AND day = %s",
            (world.patient_id, yesterday),
        )
    row = _row((await world.client.get("/team")).text, world.patient_id)
    assert "Below target" not in row
    assert "No judged day yet" in row


async def test_briefs_equal_those_of_the_stored_summaries_read_twice(world: World) -> None:
    first = datetime(2026, 3, 2, tzinfo=UTC).date()
    summaries = [
        day_summary(
            first + timedelta(days=i),
            minutes=10 + i,
            status="on_track" if i % 2 else "below",
            steps=3000 + 100 * i,
            sessions_min=(10, 5 + i),
        )
        for i in range(6)
    ]
    pid = UUID(str(world.patient_id))
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for s in summaries:
            await store_day(conn, pid, s)
        expected = [DayBrief.of(s) for s in summaries]
        once = await summary_briefs(
            conn, patient_ids=[pid], first=first, last=first + timedelta(days=5)
        )
        again = await summary_briefs(
            conn, patient_ids=[pid], first=first, last=first + timedelta(days=5)
        )
        middle = await summary_briefs(
            conn,
            patient_ids=[pid],
            first=first + timedelta(days=2),
            last=first + timedelta(days=3),
        )
    assert once == {pid: expected}
    assert again == once
    assert middle == {pid: expected[2:4]}
