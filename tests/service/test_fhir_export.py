"""FHIR R4 export: the Bundle parses with the R4B models, codes and units, stable identifiers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from fhir.resources.R4B.bundle import Bundle
from psycopg import AsyncConnection

from service.fhir import build_bundle
from service.patients import PatientRecord
from service.summaries import DayRecord, stored_summaries
from tests.fixtures.service import World
from tests.fixtures.summaries import day_summary
from tests.service.export_data import DAYS, WALK_MIN, seed_week

RANGE = {"from": "2026-03-08", "to": "2026-03-12"}
_PA = "http://hl7.org/fhir/us/physical-activity/StructureDefinition/"
_HEART_RATE = "http://hl7.org/fhir/StructureDefinition/heartrate"
# LOINC code: UCUM unit, category, profile (the Physical Activity IG's and the vital-signs one)
EXPECTED = {
    "41950-7": ("/d", "activity", _PA + "pa-observation-time-measure"),
    "55411-3": ("min/d", "activity", _PA + "pa-observation-activity-measure"),
    "40443-4": ("/min", "vital-signs", _HEART_RATE),
    "8873-2": ("/min", "vital-signs", _HEART_RATE),
}


async def _export(world: World) -> dict[str, Any]:
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/fhir",
        params=RANGE,
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    body: dict[str, Any] = response.json()
    return body


async def test_bundle_validates_and_maps_codes_units_and_days(world: World) -> None:
    await seed_week(world)
    raw = await _export(world)
    bundle = Bundle.model_validate(raw)  # every resource parses with the R4B models
    assert bundle.type == "collection"
    entries = raw["entry"]
    patient = entries[0]["resource"]
    assert patient["resourceType"] == "Patient"
    assert entries[0]["fullUrl"] == f"urn:uuid:{world.patient_id}"
    observations = [e["resource"] for e in entries[1:]]
    by_code: dict[str, dict[str, Any]] = {}
    for obs in observations:
        loinc = obs["code"]["coding"][0]
        assert loinc["system"] == "http://loinc.org"
        unit, category, profile = EXPECTED[loinc["code"]]
        assert obs["meta"]["profile"] == [profile]
        assert obs["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert obs["valueQuantity"]["code"] == unit
        assert obs["category"][0]["coding"][0]["code"] == category
        assert obs["subject"]["reference"] == f"urn:uuid:{world.patient_id}"
        if category == "vital-signs":  # the heart-rate profile's code comes along
            assert {"8867-4"} <= {c["code"] for c in obs["code"]["coding"]}
        else:  # the Physical Activity IG's two required categories
            assert obs["category"][1]["coding"][0]["code"] == "PhysicalActivity"
        day = obs["effectivePeriod"]["start"][:10]
        by_code[f"{loinc['code']}/{day}"] = obs
    async with await AsyncConnection.connect(world.db_url) as conn:
        stored = await stored_summaries(
            conn, patient_ids=[world.patient_id], first=DAYS[0], last=DAYS[-1]
        )
    resting = {s.date: s.heart_rate.resting_bpm for s in stored[world.patient_id]}
    # Only the three days with data are complete days with figures; 03-08 and 03-12 are not.
    for day, walk in zip(DAYS, WALK_MIN, strict=True):
        steps = by_code[f"41950-7/{day}"]
        assert steps["valueQuantity"]["value"] == 100 * walk
        assert by_code[f"55411-3/{day}"]["valueQuantity"]["value"] == walk
        assert by_code[f"8873-2/{day}"]["valueQuantity"]["value"] == 95
        # The resting rate the day's summary estimated, to 0.1 beats/min.
        measured = resting[day]
        assert measured is not None
        value = by_code[f"40443-4/{day}"]["valueQuantity"]["value"]
        assert value == pytest.approx(measured, abs=0.05)
        # The patient's local day, with Berlin's offset (CET in March before the 29th).
        assert steps["effectivePeriod"] == {
            "start": f"{day}T00:00:00+01:00",
            "end": f"{day.replace(day=day.day + 1)}T00:00:00+01:00",
        }
    assert {k.split("/")[1] for k in by_code} == {d.isoformat() for d in DAYS}


async def test_a_repeated_export_has_the_same_identifiers(world: World) -> None:
    await seed_week(world)
    first, second = await _export(world), await _export(world)

    def ids(bundle: dict[str, Any]) -> list[tuple[str, str]]:
        out = []
        for e in bundle["entry"]:
            ident = e["resource"]["identifier"][0]
            out.append((e["fullUrl"], f"{ident['system']}|{ident['value']}"))
        return out

    assert ids(first) == ids(second)
    values = [v for _, v in ids(first)]
    assert len(set(values)) == len(values)
    assert f"urn:rehab-monitor:daily-observation|{world.patient_id}/41950-7/2026-03-10" in values


async def test_fhir_is_the_care_teams(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/fhir"
    patient = await world.client.get(url, headers=world.auth(world.patient_token))
    assert patient.status_code == 403
    other = await world.client.get(url, headers=world.auth(world.other_clinician_token))
    assert other.status_code == 404
    bad = await world.client.get(
        url,
        params={"from": "2026-03-12", "to": "2026-03-01"},
        headers=world.auth(world.clinician_token),
    )
    assert bad.status_code == 422


def test_only_complete_days_carry_figures_and_only_a_measured_resting_rate() -> None:
    patient = PatientRecord(
        id=uuid4(),
        team_id=uuid4(),
        display_name="Test Patient",
        birth_year=1960,
        tz="UTC",
        surgery_type="fusion",
        surgery_date=date(2026, 4, 30),
        approach="open",
        created_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    judged = day_summary(date(2026, 5, 10), minutes=17, status="on_track", steps=5123)
    unworn = day_summary(date(2026, 5, 11), minutes=0, status="insufficient_data")
    # A resting rate from the recent days is not this day's observation.
    unworn = replace(unworn, heart_rate=replace(unworn.heart_rate, resting_source="recent_days"))
    today = day_summary(date(2026, 5, 13), minutes=3, status="in_progress")
    days = [
        DayRecord(date=judged.date, status=judged.status, summary=judged, checkins=()),
        DayRecord(date=unworn.date, status=unworn.status, summary=unworn, checkins=()),
        DayRecord(date=date(2026, 5, 12), status="pending", summary=None, checkins=()),
        DayRecord(date=today.date, status=today.status, summary=today, checkins=()),
    ]
    bundle = build_bundle(patient=patient, days=days, now=datetime(2026, 5, 13, 12, tzinfo=UTC))
    Bundle.model_validate(bundle)
    assert bundle["timestamp"] == "2026-05-13T12:00:00Z"
    figures = {
        (e["resource"]["code"]["coding"][0]["code"], e["resource"]["effectivePeriod"]["start"]): e[
            "resource"
        ]["valueQuantity"]["value"]
        for e in bundle["entry"][1:]
    }
    assert figures == {
        ("41950-7", "2026-05-10T00:00:00+00:00"): 5123,
        ("55411-3", "2026-05-10T00:00:00+00:00"): 17,
        ("40443-4", "2026-05-10T00:00:00+00:00"): 60,
        ("8873-2", "2026-05-10T00:00:00+00:00"): 118,
        ("8873-2", "2026-05-11T00:00:00+00:00"): 118,
    }
