"""Activities declared in imported files inform the worker's session detection.

Real files through the real import and worker path against PostgreSQL: the Apple Health
fixture's cycling workout (heart rate from the watch, no steps or cadence) becomes a biking
session of its length; the FIT run recorded with heart rate only becomes a running session;
re-importing stores every activity once; without the declared activities the day is what it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.db import make_pool
from service.imports import file_digest, import_parsed, read_file
from service.patients import PatientIn, add_patient, get_patient
from service.worker import drain
from service.worker.recompute import compute_day
from tests.fixtures.service import make_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
APPLE = FIXTURES / "apple" / "export.xml"
FIT_RUN = FIXTURES / "fit" / "2013-02-06-12-11-14.fit"  # Forerunner 110: heart rate only
FIT_RIDE = FIXTURES / "fit" / "sample-activity-indoor-trainer.fit"  # Edge 800: crank cadence
TZ = "Europe/Berlin"


def _utc(*args: int) -> str:
    return datetime(*args, tzinfo=UTC).isoformat().replace("+00:00", "Z")


async def _import(db_url: str, path: Path, surgery: date) -> tuple[UUID, list[Any]]:
    """A new patient, ``path`` imported twice (the second time stores nothing), then the worker
    drains the queued days."""
    results = []
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        patient_id = await add_patient(
            conn,
            PatientIn(
                display_name="Import Patient",
                birth_year=1970,
                tz=TZ,
                surgery_type="discectomy",
                surgery_date=surgery,
            ),
        )
        patient = await get_patient(conn, patient_id)
        assert patient is not None
        for _ in range(2):
            parsed = read_file(path, zone=TZ)
            results.append(
                await import_parsed(conn, patient=patient, parsed=parsed, digest=file_digest(path))
            )
    pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(db_url, make_settings(db_url))
    async with pool:
        assert await drain(pool) >= 1
    return patient_id, results


def _summary(db_url: str, patient_id: UUID, day: date) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT summary FROM daily_summaries WHERE patient_id = %s AND day = %s",
            (patient_id, day),
        ).fetchone()
    assert row is not None, day
    summary: dict[str, Any] = row[0]
    return summary


def _activities(db_url: str, patient_id: UUID) -> list[tuple[str, str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT kind, start_t, end_t FROM declared_activities WHERE patient_id = %s"
            " ORDER BY start_t",
            (patient_id,),
        ).fetchall()
    return [(k, _iso(s), _iso(e)) for k, s, e in rows]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _sessions(summary: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(s["kind"], s["start"], s["end"], s["active_minutes"]) for s in summary["sessions"]]


async def test_apple_cycling_workout_is_biking_minutes(db_url: str) -> None:
    day = date(2026, 5, 11)
    patient_id, (first, again) = await _import(db_url, APPLE, date(2026, 3, 2))
    watch = next(s for s in first.sources if s.key == "apple:Apple Watch")
    assert watch.activities == 2
    # Stored once: the second import finds both workouts again (10:00 and 17:00 Berlin).
    assert _activities(db_url, patient_id) == [
        ("walk", _utc(2026, 5, 11, 8), _utc(2026, 5, 11, 8, 20)),
        ("bike", _utc(2026, 5, 11, 15), _utc(2026, 5, 11, 15, 15)),
    ]
    assert again.accepted == 0
    summary = _summary(db_url, patient_id, day)
    # The 20-minute walk (steps from the watch and the phone) and the 15-minute ride (the
    # watch's heart rate alone): each a session of the kind and length the file declares.
    assert _sessions(summary) == [
        ("walking", _utc(2026, 5, 11, 8), _utc(2026, 5, 11, 8, 20), 20),
        ("biking", _utc(2026, 5, 11, 15), _utc(2026, 5, 11, 15, 15), 15),
    ]
    assert summary["aerobic_minutes_by_kind"] == {"walking": 20, "biking": 15, "running": 0}
    assert summary["aerobic_minutes"] == 35
    ride = summary["sessions"][1]
    assert 96 <= ride["hr_mean_bpm"] <= 110  # fixtures/apple/SOURCE.txt: 96-110 bpm

    # Without the declared activities the day is what it was before: the walk alone, by its
    # steps, and everything else the same.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM declared_activities WHERE patient_id = %s", (patient_id,))
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        plain = (await compute_day(conn, patient_id=patient_id, tz=TZ, day=day)).summary.to_dict()
    assert _sessions(plain) == _sessions(summary)[:1]
    assert plain["aerobic_minutes_by_kind"] == {"walking": 20, "biking": 0, "running": 0}
    for key in ("steps", "wear_minutes", "active_minutes"):
        assert plain[key] == summary[key], key
    heart = plain["heart_rate"]
    assert heart == {k: summary["heart_rate"][k] for k in heart}


async def test_fit_run_with_heart_rate_only_is_a_running_session(db_url: str) -> None:
    # 2013-02-06 12:11:14-12:54:58 UTC, sport running, no cadence: the run declares itself.
    day = date(2013, 2, 6)
    patient_id, (first, again) = await _import(db_url, FIT_RUN, date(2013, 1, 1))
    assert first.sources[0].activities == again.sources[0].activities == 1
    # From the session's start over its elapsed time (2,625.14 s).
    assert _activities(db_url, patient_id) == [
        ("run", _utc(2013, 2, 6, 12, 11, 14), _utc(2013, 2, 6, 12, 54, 59, 140000))
    ]
    summary = _summary(db_url, patient_id, day)
    ((kind, start, end, active),) = _sessions(summary)
    # Minutes 12:11 to 12:54, the device's timer 2,625 s (43.75 min).
    assert (kind, start, end, active) == (
        "running",
        _utc(2013, 2, 6, 12, 11),
        _utc(2013, 2, 6, 12, 55),
        44,
    )
    assert summary["sessions"][0]["running_minutes"] == 44
    # Week 6 after surgery, running not cleared: the run is the finding.
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" in {f["code"] for f in summary["flags"]}


async def test_fit_ride_with_crank_cadence_is_judged_by_it(db_url: str) -> None:
    # 2011-11-02 12:54:19-13:32:02 UTC, cycling with crank cadence; timer 2,261.85 s (37.7 min).
    day = date(2011, 11, 2)
    patient_id, _ = await _import(db_url, FIT_RIDE, date(2011, 10, 1))
    assert [k for k, _, _ in _activities(db_url, patient_id)] == ["bike"]
    summary = _summary(db_url, patient_id, day)
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        await conn.execute("DELETE FROM declared_activities WHERE patient_id = %s", (patient_id,))
        plain = (await compute_day(conn, patient_id=patient_id, tz=TZ, day=day)).summary.to_dict()
    biking = summary["aerobic_minutes_by_kind"]["biking"]
    by_cadence = plain["aerobic_minutes_by_kind"]["biking"]
    # Minutes with crank cadence are judged by it (freewheeling stays inactive); the ride's
    # minutes without any would add to them, up to the ride's 38. The Edge 800 measured crank
    # cadence in every minute: the declared ride changes nothing.
    assert by_cadence == biking == 38
    assert [s["kind"] for s in summary["sessions"]] == ["biking"]
