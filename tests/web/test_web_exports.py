"""The clinic report and the days as CSV from the patient page, with the page's session."""

from __future__ import annotations

import psycopg

from tests.fixtures.service import World
from tests.web.web_helpers import web_login


def _audited(db_url: str, action: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM audit_log WHERE action = %s", (action,)).fetchone()
    assert row is not None
    return int(row[0])


async def test_the_patient_page_links_the_report_and_the_csv(world: World) -> None:
    await web_login(world.client, "nurse@north.example")
    url = f"/patients/{world.patient_id}"
    page = (await world.client.get(url)).text
    assert f'href="{url}/report.pdf"' in page
    assert f'href="{url}/days.csv"' in page
    report = await world.client.get(f"{url}/report.pdf")
    assert report.status_code == 200, report.text
    assert report.headers["content-type"] == "application/pdf"
    assert report.content.startswith(b"%PDF")
    csv = await world.client.get(
        f"{url}/days.csv", params={"from": "2026-03-02", "to": "2026-03-04"}
    )
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("date,")
    assert len(lines) == 4  # a header and one row per date
    assert _audited(world.db_url, "GET /patients/{pid}/report.pdf") == 1


async def test_another_team_and_the_patient_cannot_fetch_them(world: World) -> None:
    url = f"/patients/{world.patient_id}"
    await web_login(world.client, "nurse@south.example")
    for path in ("report.pdf", "days.csv"):
        response = await world.client.get(f"{url}/{path}")
        assert response.status_code == 404, path
    await web_login(world.client, "patient@north.example")
    response = await world.client.get(f"{url}/report.pdf")
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/me"
    world.client.cookies.clear()
    response = await world.client.get(f"{url}/days.csv")
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")
