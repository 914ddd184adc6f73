"""FHIR R4 export: the Bundle parses with the R4B models, codes and units, stable identifiers."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from tests.fixtures.service import World
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
    # Only the three days with data are complete days with figures; 03-08 and 03-12 are not.
    for day, walk in zip(DAYS, WALK_MIN, strict=True):
        steps = by_code[f"41950-7/{day}"]
        assert steps["valueQuantity"]["value"] == 100 * walk
        assert by_code[f"55411-3/{day}"]["valueQuantity"]["value"] == walk
        assert by_code[f"8873-2/{day}"]["valueQuantity"]["value"] == 95
        assert f"40443-4/{day}" in by_code
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
