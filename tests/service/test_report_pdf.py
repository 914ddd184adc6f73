"""The weekly clinic report: a PDF rendered by the server, read back with poppler."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from service.report import report_week
from tests.fixtures.service import World
from tests.service.export_data import seed_week

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: apt-get install poppler-utils",
)


def test_the_report_week_is_the_week_since_surgery() -> None:
    surgery = date(2026, 3, 2)
    assert report_week(surgery_date=surgery, week_of=date(2026, 3, 2)) == (
        1,
        date(2026, 3, 2),
        date(2026, 3, 8),
    )
    assert report_week(surgery_date=surgery, week_of=date(2026, 3, 11)) == (
        2,
        date(2026, 3, 9),
        date(2026, 3, 15),
    )
    assert report_week(surgery_date=surgery, week_of=date(2026, 3, 1))[0] == 0


async def _report(world: World, week_of: str) -> bytes:
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/report",
        params={"week_of": week_of},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def _read_back(pdf: Path, out: Path) -> tuple[str, str, bytes]:
    """The PDF's text (whitespace collapsed: a table cell's text wraps onto lines of its own),
    its pdfinfo, and its page rendered to PNG by pdftoppm."""
    raw = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(out / "page")], check=True
    )
    return " ".join(raw.stdout.split()), info.stdout, (out / "page.png").read_bytes()


@needs_poppler
async def test_report_renders_one_page_with_the_week(world: World, tmp_path: Path) -> None:
    await seed_week(world)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(await _report(world, "2026-03-11"))
    text, info, png = _read_back(pdf, tmp_path)
    for expected in (
        "Weekly clinic report",
        "Week 2 since surgery",
        "2026-03-09",
        "2026-03-15",
        "Plan and clearances in force",
        "running: not cleared",
        "Aerobic minutes against the plan",
        "Alerts and how they were handled",
        "called: neurology review booked",  # the acknowledgement note
        "nurse@north.example",  # who acknowledged
        "numbness or weakness",  # the check-in's red flag
        "left foot tingles after the walk",
        "4/10",
    ):
        assert expected in text, expected
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    assert png.startswith(b"\x89PNG")
    assert len(png) > 10_000


async def test_report_is_the_care_teams_and_checks_its_date(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/report"
    patient = await world.client.get(url, headers=world.auth(world.patient_token))
    assert patient.status_code == 403
    bad = await world.client.get(
        url, params={"week_of": "not-a-date"}, headers=world.auth(world.clinician_token)
    )
    assert bad.status_code == 422
    far = await world.client.get(
        url, params={"week_of": "1800-01-01"}, headers=world.auth(world.clinician_token)
    )
    assert far.status_code == 422
    # A week without any data still renders (no days, no alerts, no check-ins).
    assert (await _report(world, "2026-02-01")).startswith(b"%PDF-")
