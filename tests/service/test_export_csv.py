"""CSV export of the daily summaries: one row per date of the range, for research."""

from __future__ import annotations

import csv
import io

from service.api.access import policy_of
from service.api.routes.exports import CSV_COLUMNS
from tests.fixtures.service import World
from tests.service.export_data import DAYS, WALK_MIN, seed_week


async def test_days_csv_has_a_row_per_date(world: World) -> None:
    await seed_week(world)
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/days.csv",
        params={"from": "2026-03-07", "to": "2026-03-12"},
        headers=world.auth(world.patient_token),  # the patient's own data
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["date"] for r in rows] == [f"2026-03-{d:02d}" for d in range(7, 13)]
    by_day = {r["date"]: r for r in rows}
    # Before the first sample: not monitored; after the last day with data: judged, no wear.
    assert by_day["2026-03-07"]["status"] == "not_monitored"
    assert by_day["2026-03-07"]["steps"] == ""
    for day, walk in zip(DAYS, WALK_MIN, strict=True):
        row = by_day[day.isoformat()]
        assert row["judged"] == "true"
        assert row["status"] in ("below", "on_track", "above")
        assert int(row["steps"]) == 100 * walk
        assert int(row["aerobic_minutes"]) == walk
        assert int(row["walking_minutes"]) == walk
        assert int(row["wear_minutes"]) >= 10 * 60
        assert row["max_hr_bpm"] == "95"
        assert float(row["target_low_min"]) <= float(row["target_high_min"])
    assert by_day["2026-03-10"]["checkins"] == "1"
    assert by_day["2026-03-12"]["judged"] == "false"


async def test_days_csv_is_scoped(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/days.csv"
    assert (
        await world.client.get(url, headers=world.auth(world.clinician_token))
    ).status_code == 200
    other = await world.client.get(url, headers=world.auth(world.other_patient_token))
    assert other.status_code == 404
    bad = await world.client.get(
        url, params={"from": "1800-01-01"}, headers=world.auth(world.clinician_token)
    )
    assert bad.status_code == 422


def test_export_policies() -> None:
    # The CSV is the patient's own data (and the team's); FHIR and the report are the team's.
    assert policy_of("GET", "/v1/patients/{patient_id}/days.csv") == "patient"
    assert policy_of("GET", "/v1/patients/{patient_id}/fhir") == "care_team"
    assert policy_of("GET", "/v1/patients/{patient_id}/report") == "care_team"
