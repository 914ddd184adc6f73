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


def _fails(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), obj=CliState(make_settings(db_url)))
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


_PATIENT = (
    "patient", "add", "--name", "A. Patient", "--birth-year", "1961", "--tz", "Europe/Berlin",
    "--surgery-type", "fusion",
)  # fmt: skip


def test_a_team_named_by_hand_must_exist(db_url: str) -> None:
    line = _fails(db_url, *_PATIENT, "--surgery-date", "2026-05-04", "--team", "nroth")
    assert "no team 'nroth'" in line
    assert "nroth" not in _run(db_url, "team", "create", "north")
    for args in (
        ("team", "add-member", "south", "--email", "nobody@example.org"),
        ("team", "notify", "nrth", "--webhook", "https://pager.example/rehab"),
    ):
        _fails(db_url, *args)
    user = _run(
        db_url, "user", "create", "--email", "first@north.example", "--role", "clinician",
        "--password", "correct horse battery",
    )  # fmt: skip
    assert "team 'default'" in user
    assert "no team 'sotuh'" in _fails(
        db_url, "user", "create", "--email", "x@north.example", "--role", "clinician",
        "--team", "sotuh", "--password", "correct horse battery",
    )  # fmt: skip
    # Omitting --team keeps using the default team; no team was created by the typos.
    _run(db_url, *_PATIENT, "--surgery-date", "2026-05-04")
    teams = _run(db_url, "team", "create", "default")
    assert teams.strip()
    import psycopg  # noqa: PLC0415

    with psycopg.connect(db_url) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM care_teams").fetchall()}
    assert names == {"north", "default"}


def test_bad_cli_input_is_one_clear_line(db_url: str) -> None:
    assert "YYYY-MM-DD" in _fails(db_url, *_PATIENT, "--surgery-date", "04/05/2026")
    assert "surgery date must be between" in _fails(
        db_url, *_PATIENT, "--surgery-date", "0001-01-01"
    )
    assert "surgery date must be between" in _fails(
        db_url, *_PATIENT, "--surgery-date", "2999-01-01"
    )
    email = _fails(
        db_url, "user", "create", "--email", "nobody", "--role", "clinician",
        "--password", "correct horse battery",
    )  # fmt: skip
    assert "e-mail address" in email
    assert "Failing row" not in email
    empty_team = _fails(
        db_url, "user", "create", "--email", "a@b.example", "--role", "clinician",
        "--team", "", "--password", "correct horse battery",
    )  # fmt: skip
    assert "team" in empty_team
    assert "team name" in _fails(db_url, "team", "create", " ")
