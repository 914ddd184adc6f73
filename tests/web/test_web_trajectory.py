"""The recovery trajectory on the pages: chart and table on the patient page, the team's column,
the patient's encouraging line (never "behind")."""

from __future__ import annotations

from datetime import date, timedelta

from psycopg import AsyncConnection

import analysis
from tests.fixtures.service import World
from tests.web.web_helpers import day_summary, store_day, web_login

SURGERY = date(2026, 3, 2)  # the world's patient: fusion, open
BASE = 8_000


async def _store(world: World, *, slow: bool, pre_days: int, weeks: int) -> None:
    model = analysis.load_recovery()
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for back in range(pre_days, 0, -1):
            day = SURGERY - timedelta(days=back)
            await store_day(
                conn,
                world.patient_id,
                day_summary(
                    day, minutes=30, steps=BASE, status="pre_operative", before_surgery=True
                ),
            )
        for i in range(7 * weeks):
            band = model.band_week(band="open", week=i // 7 + 1)
            pct = band.low_pct * 0.7 if slow else band.expected_pct
            steps = round(BASE * pct / 100)
            doc = day_summary(
                SURGERY + timedelta(days=i), minutes=20, steps=steps, status="on_track"
            )
            await store_day(conn, world.patient_id, doc)


async def test_patient_page_shows_the_band_and_its_numbers(world: World) -> None:
    await _store(world, slow=True, pre_days=10, weeks=3)
    await web_login(world.client, "nurse@north.example")
    page = await world.client.get(f"/patients/{world.patient_id}")
    assert page.status_code == 200
    html = page.text
    assert 'id="trajectory-chart"' in html
    assert 'id="trajectory-table"' in html
    assert "Baseline 8,000 steps/day: measured by the band on 10 valid" in html
    # Week 1 of the open band: 10–60 %, expected 29 %; the slow patient is at 7 %.
    assert "<td>10–60 %</td>" in html
    assert "<td>7 %</td>" in html
    assert 'id="trajectory-behind"' in html


async def test_team_list_has_recovery_vs_expected(world: World) -> None:
    await _store(world, slow=True, pre_days=10, weeks=3)
    await web_login(world.client, "nurse@north.example")
    page = await world.client.get("/team")
    assert page.status_code == 200
    assert "Recovery vs expected" in page.text
    assert "% of baseline (expected" in page.text
    assert "behind" in page.text


async def test_me_shows_an_encouraging_line_never_behind(world: World) -> None:
    await _store(world, slow=True, pre_days=10, weeks=3)
    await web_login(world.client, "patient@north.example")
    page = await world.client.get("/me")
    assert page.status_code == 200
    assert 'id="milestone-line"' in page.text
    assert "Your next milestone: 3,500 steps a day" in page.text
    assert "behind" not in page.text.lower()


async def test_me_names_the_milestone_reached(world: World) -> None:
    await _store(world, slow=False, pre_days=10, weeks=7)
    await web_login(world.client, "patient@north.example")
    page = await world.client.get("/me")
    assert "Well done: you reached" in page.text
