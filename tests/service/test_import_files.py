"""File imports (service/imports): real FIT and TCX files against their own summaries, the
Apple Health and Fitbit exports, idempotence, all-or-nothing files and the CLI."""

from __future__ import annotations

import statistics
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import AsyncConnection
from typer.testing import CliRunner

from service.cli.context import CliState
from service.cli.main import app
from service.imports import ImportFileError, file_digest, import_parsed, read_file
from service.imports._pipeline import PREOPERATIVE_WINDOW_DAYS
from service.patients import PatientIn, add_patient, get_patient
from tests.fixtures.service import make_settings
from wire import Bike, Cadence, HeartRate, Steps

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIT, TCX = FIXTURES / "fit", FIXTURES / "tcx"
TZ = "Europe/Berlin"


def _of(parsed: Any, kind: type) -> list[Any]:
    return [s for src in parsed.sources.values() for s in src.samples if isinstance(s, kind)]


# (file, vendor session avg HR, max HR, timer time s): the FIT "session" message.
@pytest.mark.parametrize(
    ("name", "avg", "peak", "timer_s"),
    [
        ("2013-02-06-12-11-14.fit", 147, 171, 2625.14),
        ("sample-activity-indoor-trainer.fit", 148, 176, 2261.85),
        ("garmin-fenix-5-walk.fit", 75, 82, 45.379),
    ],
)
def test_fit_heart_rate_matches_the_session(name: str, avg: int, peak: int, timer_s: float) -> None:
    parsed = read_file(FIT / name, zone=TZ)
    assert parsed.summary.avg_hr_bpm == avg
    assert parsed.summary.max_hr_bpm == peak
    assert parsed.summary.timer_s == pytest.approx(timer_s)
    bpm = [s.bpm for s in _of(parsed, HeartRate)]
    # The device averages over time and over samples it did not write (fixtures/fit/SOURCE.txt).
    assert statistics.mean(bpm) == pytest.approx(avg, abs=1.5)
    assert max(bpm) == peak
    times = sorted(s.t for s in _of(parsed, HeartRate))
    span_s = (_dt(times[-1]) - _dt(times[0])).total_seconds()
    assert span_s == pytest.approx(timer_s, abs=max(0.05 * timer_s, 5))


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_fit_cadence_by_sport() -> None:
    run = read_file(FIT / "activity-small-fenix2-run.fit", zone=TZ)
    cadence = _of(run, Cadence)
    assert cadence
    assert all(c.running for c in cadence)
    # Strides per minute doubled: a run's cadence is around 160–180 steps/min.
    assert 150 < statistics.median(c.spm for c in cadence) < 190
    walk = read_file(FIT / "garmin-fenix-5-walk.fit", zone=TZ)
    assert {c.running for c in _of(walk, Cadence)} == {False}
    # The session's avg_cadence is 61 strides/min.
    assert statistics.mean(c.spm for c in _of(walk, Cadence)) == pytest.approx(2 * 61, abs=6)
    ride = read_file(FIT / "sample-activity-indoor-trainer.fit", zone=TZ)
    assert not _of(ride, Cadence)
    bike = _of(ride, Bike)
    # A cycling session's cadence is biking without a bike sensor; session avg_cadence 82 rpm.
    assert statistics.mean(b.rpm for b in bike if b.rpm > 0) == pytest.approx(82, abs=2)
    assert any(b.power_w for b in bike)


def test_fit_monitoring_steps_match_the_daily_total() -> None:
    parsed = read_file(FIT / "MonitoringFile.fit", zone=TZ)
    steps = _of(parsed, Steps)
    # The device's daily summary for its local day 2014-12-27 (UTC−6): walking 3142 + running 31.
    assert parsed.summary.steps == 3173
    day = [s.steps for s in steps if "2014-12-27T06:00:00Z" < s.t <= "2014-12-28T06:00:00Z"]
    assert sum(day) == 3173
    assert all(1 <= s.interval_s <= 3600 for s in steps)


@pytest.mark.parametrize(
    ("name", "laps"),
    [
        # (vendor avg, max, TotalTimeSeconds) per lap; trackpoint means are within 8 bpm
        # (lap 0 of test.tcx: smart recording, the device averages over time).
        ("test.tcx", [(139, 189, 608.47), (172, 188, 714.80), (167, 180, 669.51)]),
        ("sup_activity_1.tcx", [(88, 108, 966.796), (87, 93, 145.539)]),
    ],
)
def test_tcx_laps(name: str, laps: list[tuple[int, int, float]]) -> None:
    parsed = read_file(TCX / name, zone=TZ)
    assert parsed.summary.laps == tuple((float(a), float(m), t) for a, m, t in laps)
    hr = _of(parsed, HeartRate)
    assert len(hr) == {"test.tcx": 383, "sup_activity_1.tcx": 111}[name]
    # Every trackpoint's heart rate is at most its lap's maximum, and the file's maximum is one.
    assert max(s.bpm for s in hr) == max(m for _, m, _ in laps) - (2 if name != "test.tcx" else 0)


def test_gpx_from_the_same_recording() -> None:
    gpx = read_file(FIXTURES / "gpx" / "test-tcx-as.gpx", zone=TZ)
    tcx = read_file(TCX / "test.tcx", zone=TZ)
    assert [(s.t, s.bpm) for s in _of(gpx, HeartRate)] == [
        (s.t, s.bpm) for s in _of(tcx, HeartRate)
    ]


def test_apple_health_export_zip_streams(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(FIXTURES / "apple" / "export.xml", "apple_health_export/export.xml")
    parsed = read_file(archive, zone=TZ)
    assert parsed.format == "apple_health"
    watch = parsed.sources["apple:Apple Watch"]
    phone = parsed.sources["apple:iPhone"]
    # Figures printed by the fixture's generator (fixtures/apple/SOURCE.txt).
    assert len([s for s in watch.samples if isinstance(s, HeartRate)]) == 245
    assert max(s.bpm for s in watch.samples if isinstance(s, HeartRate)) == 111
    assert sum(s.steps for s in watch.samples if isinstance(s, Steps)) == 2024
    phone_steps = [s for s in phone.samples if isinstance(s, Steps)]
    assert sum(s.steps for s in phone_steps) == 3554
    assert max(s.interval_s for s in phone_steps) == 3600  # the 2.5-hour record, in hours
    assert [w[0] for w in parsed.summary.workouts] == ["walking", "cycling"]
    # The workouts are the watch's declared activities: 20 and 15 minutes.
    assert [(a.kind, (a.end - a.start).total_seconds()) for a in watch.activities] == [
        ("walk", 1200.0),
        ("bike", 900.0),
    ]
    assert phone.activities == []
    assert parsed.skipped == {"other record types": 1}


def test_fitbit_export_matches_the_daily_total(tmp_path: Path) -> None:
    archive = tmp_path / "MyFitbitData.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in (FIXTURES / "fitbit_export" / "Global Export Data").iterdir():
            z.write(f, f"MyFitbitData/User/Global Export Data/{f.name}")
    parsed = read_file(archive, zone="America/New_York")
    steps = _of(parsed, Steps)
    # Fitabase's own daily total for this person and day (fixtures/fitabase dailyActivity).
    assert sum(s.steps for s in steps) == 11875
    hr = _of(parsed, HeartRate)
    assert len(hr) == 1000
    # Local wall-clock 07:21:00 in New York (EDT) is 11:21 UTC.
    assert hr[0].t == "2016-04-12T11:21:00Z"


def test_an_unknown_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(ImportFileError, match=r"notes\.txt: not a FIT, TCX"):
        read_file(junk, zone=TZ)


async def _patient(conn: AsyncConnection[Any], surgery: date) -> UUID:
    return await add_patient(
        conn,
        PatientIn(
            display_name="Import Patient",
            birth_year=1970,
            tz=TZ,
            surgery_type="discectomy",
            surgery_date=surgery,
        ),
    )


def _counts(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("hr_samples", "step_samples", "cadence_samples", "bike_samples", "devices")
        }


async def test_import_stores_once_per_source(db_url: str) -> None:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient = await get_patient(conn, await _patient(conn, date(2011, 1, 1)))
        assert patient is not None
        path = FIT / "sample-activity-indoor-trainer.fit"
        parsed = read_file(path, zone=TZ)
        first = await import_parsed(conn, patient=patient, parsed=parsed, digest=file_digest(path))
        assert first.accepted == parsed.n_samples == 2263 + 2222
        again = await import_parsed(conn, patient=patient, parsed=parsed, digest=file_digest(path))
        assert (again.accepted, again.duplicates) == (0, parsed.n_samples)
        # The same device's other file is the same source; another device is another.
        await import_parsed(
            conn,
            patient=patient,
            parsed=read_file(TCX / "test.tcx", zone=TZ),
            digest=file_digest(TCX / "test.tcx"),
        )
    counts = _counts(db_url)
    assert counts["hr_samples"] == 2263 + 383
    assert counts["bike_samples"] == 2222
    assert counts["devices"] == 2
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT name, revoked_at IS NOT NULL FROM devices ORDER BY name"
        ).fetchall()
        stored = conn.execute(
            "SELECT round(avg(bpm)), max(bpm) FROM hr_samples h JOIN devices d ON d.id = h.device_id"
            " WHERE d.name LIKE '%%edge800%%'"
        ).fetchone()
    assert rows == [
        ("file import: Forerunner 410 Software Version 2.20 (TCX)", True),
        ("file import: Garmin edge800 (FIT)", True),
    ]
    assert stored == (148, 176)  # the session's avg_heart_rate and max_heart_rate


async def test_samples_before_the_preoperative_window_are_left_out(db_url: str) -> None:
    # test.tcx is a ride of 2012-12-26 (Berlin). The import keeps PREOPERATIVE_WINDOW_DAYS (90)
    # local days before the day of surgery: with surgery 90 days after the ride it is the first
    # kept day, one day later the whole ride is older than the window.
    path = TCX / "test.tcx"
    ride = date(2012, 12, 26)
    assert PREOPERATIVE_WINDOW_DAYS == 90
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        for surgery, expected in (
            (date(2026, 3, 2), (0, 383)),
            (ride + timedelta(days=91), (0, 383)),
            (ride + timedelta(days=90), (383, 0)),
        ):
            patient = await get_patient(conn, await _patient(conn, surgery))
            assert patient is not None
            result = await import_parsed(
                conn, patient=patient, parsed=read_file(path, zone=TZ), digest=file_digest(path)
            )
            assert (result.accepted, result.before_surgery) == expected, surgery
    assert _counts(db_url)["hr_samples"] == 383


async def test_a_rejected_file_stores_nothing(db_url: str, tmp_path: Path) -> None:
    text = (TCX / "test.tcx").read_text()
    # The 6th heart rate of the file becomes 300 bpm, above the wire's 250.
    marker = "<Value>"
    at = -1
    for _ in range(6 + 3):  # lap 0's two summary values come first
        at = text.index(marker, at + 1)
    bad = tmp_path / "bad.tcx"
    bad.write_text(text[: at + len(marker)] + "300" + text[text.index("<", at + len(marker)) :])
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient = await get_patient(conn, await _patient(conn, date(2011, 1, 1)))
        assert patient is not None
        with pytest.raises(ImportFileError) as caught:
            await import_parsed(
                conn, patient=patient, parsed=read_file(bad, zone=TZ), digest=file_digest(bad)
            )
    message = caught.value.detail
    assert message.startswith("bad.tcx, Trackpoint #")
    assert "bpm: Expected `int` <= 250" in message
    assert message.endswith("nothing of this file was stored")
    assert _counts(db_url) == dict.fromkeys(
        ("hr_samples", "step_samples", "cadence_samples", "bike_samples", "devices"), 0
    )


def test_cli_imports_with_a_line_per_file(db_url: str) -> None:
    state = CliState(make_settings(db_url))
    with psycopg.connect(db_url, autocommit=True) as conn:
        team = conn.execute("INSERT INTO care_teams (name) VALUES ('default') RETURNING id")
        team_id = team.fetchone()[0]  # type: ignore[index]
        patient = conn.execute(
            "INSERT INTO patients (team_id, display_name, birth_year, tz, surgery_type,"
            " surgery_date) VALUES (%s, 'P', 1970, %s, 'fusion', '2011-01-01') RETURNING id",
            (team_id, TZ),
        ).fetchone()[0]  # type: ignore[index]
    args = ["import", str(FIT / "garmin-fenix-5-walk.fit"), str(FIT / "MonitoringFile.fit")]
    result = CliRunner().invoke(app, [*args, "--patient", str(patient)], obj=state)
    assert result.exit_code == 0, result.output
    assert "garmin-fenix-5-walk.fit (fit): 34 samples stored" in result.output
    assert "MonitoringFile.fit (fit): 79 samples stored" in result.output
    again = CliRunner().invoke(app, [*args, "--patient", str(patient)], obj=state)
    assert "0 samples stored, 34 already stored" in again.output
    missing = CliRunner().invoke(
        app, ["import", str(FIT / "garmin-fenix-5-walk.fit"), "--patient", str(UUID(int=1))],
        obj=state,
    )  # fmt: skip
    assert missing.exit_code != 0
