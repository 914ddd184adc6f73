"""Uploading exported files from the patient page (care team) and from /me (the patient)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.fixtures.service import World
from tests.web.web_helpers import csrf_of, web_login

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _hr_count(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM hr_samples").fetchone()
    assert row is not None
    return int(row[0])


def _early_surgery(db_url: str, world: World) -> None:
    # The fixtures are from 2012–2022; samples before the day of surgery are left out.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE patients SET surgery_date = '2012-01-01' WHERE id = %s", (world.patient_id,)
        )


async def test_care_team_uploads_on_the_patient_page(world: World) -> None:
    _early_surgery(world.db_url, world)
    await web_login(world.client, "nurse@north.example")
    url = f"/patients/{world.patient_id}"
    page = (await world.client.get(url)).text
    assert 'action="/patients/' in page
    assert 'enctype="multipart/form-data"' in page
    tcx = (FIXTURES / "tcx" / "test.tcx").read_bytes()
    response = await world.client.post(
        f"{url}/import",
        data={"csrf": csrf_of(page)},
        files=[("files", ("test.tcx", tcx, "application/octet-stream"))],
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?notice=imported#import")
    assert _hr_count(world.db_url) == 383
    # A rejected file: the page names the file; nothing more is stored.
    bad = await world.client.post(
        f"{url}/import",
        data={"csrf": csrf_of(page)},
        files=[("files", ("notes.txt", b"hello", "text/plain"))],
    )
    assert bad.status_code == 422
    assert "notes.txt: not a FIT, TCX" in bad.text
    assert _hr_count(world.db_url) == 383


async def test_patient_uploads_on_me(world: World) -> None:
    _early_surgery(world.db_url, world)
    await web_login(world.client, "patient@north.example")
    page = (await world.client.get("/me")).text
    assert 'action="/me/import"' in page
    tcx = (FIXTURES / "tcx" / "sup_activity_1.tcx").read_bytes()
    response = await world.client.post(
        "/me/import",
        data={"csrf": csrf_of(page)},
        files=[("files", ("sup.tcx", tcx, "application/octet-stream"))],
    )
    assert response.status_code == 303, response.text
    assert _hr_count(world.db_url) == 111
    # Without the CSRF token the upload is refused.
    refused = await world.client.post(
        "/me/import", files=[("files", ("sup.tcx", tcx, "application/octet-stream"))]
    )
    assert refused.status_code in (400, 403)
    assert _hr_count(world.db_url) == 111
