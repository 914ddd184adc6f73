"""Setting up a clinic from the command line: team, clinician, patient, enrollment code, alerts."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from service.cli.context import CliState
from service.cli.main import app
from tests.fixtures.service import make_settings


def _run(db_url: str, *args: str) -> str:
    state = CliState(make_settings(db_url))
    result = CliRunner().invoke(app, list(args), obj=state)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_clinic_from_nothing(db_url: str) -> None:
    team_id = _run(db_url, "team", "create", "north").strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", team_id)
    _run(
        db_url,
        "user", "create", "--email", "nurse@north.example", "--role", "clinician",
        "--team", "north", "--password", "correct horse battery",
    )  # fmt: skip
    _run(db_url, "team", "create", "south")
    assert "is in team 'south'" in _run(
        db_url, "team", "add-member", "south", "--email", "nurse@north.example"
    )
    patient_id = _run(
        db_url,
        "patient", "add", "--name", "A. Patient", "--birth-year", "1961", "--tz",
        "Europe/Berlin", "--surgery-type", "fusion", "--surgery-date", "2026-05-04",
        "--team", "north",
    ).strip()  # fmt: skip
    _run(
        db_url,
        "user", "create", "--email", "a.patient@example.org", "--role", "patient",
        "--patient", patient_id, "--team", "north", "--password", "patient passphrase",
    )  # fmt: skip
    code = _run(db_url, "patient", "enroll-code", "--patient", patient_id).splitlines()[0]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    out = _run(db_url, "team", "notify", "north", "--webhook", "https://pager.example/rehab")
    assert re.fullmatch(r"[0-9a-f]{64}", out.splitlines()[-1])
    # An e-mail target needs SMTP settings (refused without them: test_alert_notifications.py).
    state = CliState(make_settings(db_url, smtp_host="127.0.0.1"))
    result = CliRunner().invoke(
        app, ["team", "notify", "north", "--email", "spine@clinic.example"], obj=state
    )
    assert result.exit_code == 0, result.output
    assert "spine@clinic.example" in result.output


def test_team_notify_needs_exactly_one_target(db_url: str) -> None:
    state = CliState(make_settings(db_url))
    result = CliRunner().invoke(app, ["team", "notify", "north"], obj=state)
    assert result.exit_code == 2
