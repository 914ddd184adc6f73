"""A day summary has one stored shape: serialised once, decoded back to the same DaySummary, old
documents included, and its brief read from the database equal to the brief of the summary."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from psycopg import AsyncConnection

import analysis
from analysis.simulate import simulate_days
from service.checkins import CheckinIn, checkins_for_days, record_checkin
from service.patients import get_patient
from service.summaries import (
    DayBrief,
    day_records,
    store_summary,
    stored_summaries,
    summary_briefs,
    summary_document,
    summary_from_document,
)
from tests.fixtures.service import World
from tests.fixtures.summaries import day_summary, old_documents

FIRST_DAY = date(2026, 5, 4)
FIRST_DAY_START_S = 1_777_852_800  # 2026-05-04T00:00:00Z
OLD = ("analysis-2.0.0", "analysis-2.0.0-early")


def _analysed() -> list[analysis.DaySummary]:
    """Ten analysed days of a simulated patient (sessions, running, flags)."""
    patient = analysis.PatientProfile(
        birth_year=1960,
        surgery_type="fusion",
        approach="open",
        surgery_date=FIRST_DAY - timedelta(days=10),
        clearances=analysis.Clearances(),
    )
    days = simulate_days(
        seed=7, n_days=10, first_day_start_s=FIRST_DAY_START_S, running_probability=0.3
    )
    out: list[analysis.DaySummary] = []
    for i, sim in enumerate(days):
        out.append(
            analysis.analyse_day(
                grid=sim.build_grid(),
                day=FIRST_DAY + timedelta(days=i),
                patient=patient,
                history=out,
            )
        )
    return out


def _stored(summary: analysis.DaySummary) -> dict[str, object]:
    """The document as it comes back from the database's jsonb (JSON, decoded)."""
    document: dict[str, object] = orjson.loads(orjson.dumps(summary_document(summary)))
    return document


def test_a_summary_decodes_back_to_itself() -> None:
    summaries = _analysed()
    assert any(s.sessions for s in summaries)
    assert any(s.flags for s in summaries)
    built = day_summary(FIRST_DAY, minutes=30, status="above", sessions_min=(25, 5))
    for summary in [*summaries, built]:
        assert summary_from_document(_stored(summary)) == summary


@pytest.mark.parametrize("name", OLD)
def test_an_old_document_reads_as_written_and_round_trips(name: str) -> None:
    documents = old_documents(name)
    assert documents
    for document in documents:
        summary = summary_from_document(document)
        assert summary.analysis_version == "analysis-2.0.0"
        assert summary.day_start_s == document["day_start_s"]
        assert [s.start_s for s in summary.sessions] == [s["start_s"] for s in document["sessions"]]
        hr = document["heart_rate"]
        assert summary.heart_rate.min_bpm == hr["min"]
        assert summary.heart_rate.resting_night == hr.get("resting_night")
        assert summary.heart_rate.mean_bpm == hr["mean_bpm"]
        assert [f.code for f in summary.flags] == [f["code"] for f in document["flags"]]
        assert summary_from_document(_stored(summary)) == summary


def test_not_a_summary_is_an_input_error() -> None:
    # A document of analysis-1.0.0 (no plan phase, no heart-rate rules_checked) is not read.
    document = _stored(_analysed()[0])
    del document["targets"]["phase"]  # type: ignore[attr-defined]
    with pytest.raises(analysis.InputError):
        summary_from_document(document)
    with pytest.raises(analysis.InputError):
        summary_from_document({"date": "2026-05-04", "flags": []})


async def test_stored_summaries_and_briefs_read_what_was_stored(world: World) -> None:
    summaries = _analysed()[:4]
    old = old_documents("analysis-2.0.0")[0]
    old_day = date.fromisoformat(old["date"]) + timedelta(days=30)
    old = {**old, "date": old_day.isoformat()}
    unreadable_day = old_day + timedelta(days=1)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for summary in summaries:
            await store_summary(
                conn, patient_id=world.patient_id, day=summary.date, summary=summary
            )
        await conn.execute(
            "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
            " status, summary, analysis_version) VALUES (%s, %s, 0, 0, 0, %s, %s::jsonb, %s),"
            " (%s, %s, 0, 0, 0, 'insufficient_data', '{\"flags\": []}', 'analysis-1.0.0')",
            (
                world.patient_id,
                old_day,
                old["status"],
                orjson.dumps(old).decode(),
                old["analysis_version"],
                world.patient_id,
                unreadable_day,
            ),
        )
        first, last = summaries[0].date, unreadable_day
        typed = (
            await stored_summaries(conn, patient_ids=[world.patient_id], first=first, last=last)
        )[world.patient_id]
        briefs = (
            await summary_briefs(conn, patient_ids=[world.patient_id], first=first, last=last)
        )[world.patient_id]
    decoded_old = summary_from_document(old)
    # The unreadable document is left out (the worker's sweep recomputes it).
    assert typed == [*summaries, decoded_old]
    assert briefs == [DayBrief.of(s) for s in typed]
    assert any(b.flag_codes for b in briefs)
    assert any(b.longest_session_min for b in briefs)


async def test_day_records_hold_the_typed_summary_and_check_ins(world: World) -> None:
    summary = _analysed()[0]
    day, empty_day = summary.date, summary.date + timedelta(days=1)
    checkin = CheckinIn(
        day=day,
        pain_0_10=3,
        stretching_sessions=2,
        strength_session=False,
        activities=[],
        red_flags=[],
        note="stiff in the morning",
    )
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
        patient = await get_patient(conn, world.patient_id)
        assert patient is not None
        await record_checkin(conn, patient, checkin, by=None, digest_interval_s=3600)
        records = await day_records(
            conn, patient_id=world.patient_id, first=day, last=empty_day, today=date(2100, 1, 1)
        )
        stored_checkins = await checkins_for_days(
            conn, patient_id=world.patient_id, first=day, last=day
        )
    assert [r.date for r in records] == [day, empty_day]
    assert records[0].summary == summary
    assert records[0].status == summary.status
    assert records[0].checkins == tuple(stored_checkins[day])
    assert records[1].summary is None
    assert records[1].checkins == ()
    assert records[1].status in ("pending", "not_monitored")
