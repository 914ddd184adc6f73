"""The weekly clinic report: a PDF rendered by the server, read back with poppler."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from psycopg import AsyncConnection

import analysis
from analysis.config import Severity
from service.checkins import ActivityIn, CheckinRecord
from service.patients import get_patient
from service.report import WeekReport, load_week, render_pdf, report_week
from service.report._pdf import MAX_ALERT_ROWS, MAX_CHECKIN_ROWS, MAX_FLAG_ROWS
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


def _busy(report: WeekReport) -> WeekReport:
    """The seeded week made as busy as a week gets: every day judged with five flags and three
    check-ins (one with red flags), and twenty alert episodes."""
    base = report.days[0]
    assert base.summary is not None
    message = (
        "Heart rate above the limit of 112 bpm for 6 consecutive minutes during a walk"
        " (peak 131 bpm at 10:42); the phase allows 60 % of the heart-rate reserve."
    )
    evidence = base.summary.flags[0].evidence if base.summary.flags else {}
    codes: list[tuple[analysis.FlagCode, Severity]] = [
        ("HR_OVER_LIMIT", "warning"), ("SESSION_TOO_LONG", "info"),
        ("DAILY_OVER_TARGET", "warning"), ("RESTING_HR_RISE", "urgent"),
        ("HIGH_IMPACT_BEFORE_CLEARANCE", "urgent"),
    ]  # fmt: skip
    days = []
    for i in range(7):
        day = report.first + timedelta(days=i)
        flags = tuple(
            analysis.Flag(code=c, severity=s, message=message, evidence=evidence) for c, s in codes
        )
        checkins = tuple(
            CheckinRecord(
                id=10 * i + k,
                day=day,
                pain_0_10=3 + k,
                stretching_sessions=2,
                strength_session=k % 2 == 0,
                activities=[ActivityIn(kind="swimming", minutes=20)],
                red_flags=["numbness_or_weakness", "wound_redness_or_drainage"] if k == 0 else [],
                note=f"day {i + 1}, check-in {k + 1}: the left leg aches after the long walk"
                " and the stairs; slept badly, took the prescribed pain relief twice.",
                created_at=datetime(day.year, day.month, day.day, 18, tzinfo=UTC),
            )
            for k in range(3)
        )
        summary = replace(base.summary, date=day, flags=flags)
        days.append(replace(base, date=day, summary=summary, checkins=checkins))
    first = report.alerts[0].record
    states = ("acknowledged", "open", "open")
    records = [
        replace(first, id=first.id + k, rule=c, severity=s, state=states[k % 3])
        for k, (c, s) in enumerate(codes[k % 5] for k in range(20))
    ]
    alerts = [replace(report.alerts[0], record=r) for r in records]
    return replace(report, days=days, alerts=alerts, today=report.last)


@needs_poppler
async def test_a_busy_week_fits_one_page_and_says_what_was_left_out(
    world: World, tmp_path: Path
) -> None:
    await seed_week(world)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        patient = await get_patient(conn, world.patient_id)
        assert patient is not None
        report = await load_week(conn, patient=patient, week_of=date(2026, 3, 11))
    busy = _busy(report)
    pdf = tmp_path / "busy.pdf"
    pdf.write_bytes(render_pdf(busy))
    text, info, _ = _read_back(pdf, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    n_flags, n_checkins = 7 * 5, 7 * 3
    assert f"and {n_flags - MAX_FLAG_ROWS} more flags" in text
    assert f"and {20 - MAX_ALERT_ROWS} more alerts" in text
    assert f"and {n_checkins - MAX_CHECKIN_ROWS} more check-ins" in text
    assert text.count("the full list is on the patient's page in Rehab Monitor") == 3
    # What is kept: the urgent flags first, every check-in with red flags.
    assert text.count("wound redness or drainage") == MAX_CHECKIN_ROWS
    assert "RESTING_HR_RISE" in text
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in text
    # The days table stays whole: all seven days.
    for i in range(7):
        assert (busy.first + timedelta(days=i)).isoformat() in text
