"""Recovery trajectory over the API: baseline measured or entered, RECOVERY_BEHIND as an alert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

import analysis
from service.alerts import on_day_summarised
from service.patients import get_patient
from service.summaries import store_summary
from service.trajectory import patient_today, team_trajectories, trajectory_of
from tests.fixtures.service import World
from tests.fixtures.summaries import day_summary

SURGERY = date(2026, 3, 2)  # the world's patient: fusion, open
BASE = 8_000


def _slow(week: int) -> float:
    return analysis.load_recovery().band_week(band="open", week=week).low_pct * 0.7 / 100


def _normal(week: int) -> float:
    return analysis.load_recovery().band_week(band="open", week=week).expected_pct / 100


async def _summarise(
    world: World, curve: Callable[[int], float], *, pre_days: int, weeks: int, times: int = 1
) -> None:
    """Store synthetic judged days and run the worker's per-day hook on each, oldest first."""
    days: list[tuple[date, int]] = [
        (SURGERY - timedelta(days=back), BASE) for back in range(pre_days, 0, -1)
    ]
    days += [
        (SURGERY + timedelta(days=i), round(BASE * curve(i // 7 + 1))) for i in range(7 * weeks)
    ]
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        for _ in range(times):
            for day, steps in days:
                before = day < SURGERY
                summary = day_summary(
                    day,
                    minutes=20,
                    steps=steps,
                    status="pre_operative" if before else "on_track",
                    before_surgery=before,
                )
                await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
                await on_day_summarised(conn, patient_id=world.patient_id, day=day, summary=summary)


async def _trajectory(world: World, token: str) -> dict[str, Any]:
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/trajectory", headers=world.auth(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _recovery_alerts(world: World) -> list[dict[str, Any]]:
    response = await world.client.get("/v1/alerts", headers=world.auth(world.clinician_token))
    return [a for a in response.json() if a["rule"] == "RECOVERY_BEHIND"]


async def test_slow_recovery_with_preoperative_baseline_raises_one_info_alert(
    world: World,
) -> None:
    await _summarise(world, _slow, pre_days=10, weeks=6, times=2)
    body = await _trajectory(world, world.patient_token)
    assert body["baseline"]["kind"] == "pre_operative"
    assert body["baseline"]["steps_per_day"] == BASE
    assert "10 valid pre-operative days" in body["baseline"]["source"]
    week1 = body["weeks"][0]
    assert week1["position"] == "below"
    assert week1["band_low_pct"] == 10
    assert body["behind"] is True
    alerts = await _recovery_alerts(world)
    # Raised when week 2 completed the run below the band; a recomputation raises nothing more.
    assert [(a["severity"], a["notify"], a["first_day"]) for a in alerts] == [
        ("info", "none", (SURGERY + timedelta(days=13)).isoformat())
    ]
    assert "below the expected band" in alerts[0]["message"]


async def test_normal_recovery_raises_nothing(world: World) -> None:
    await _summarise(world, _normal, pre_days=10, weeks=7)
    body = await _trajectory(world, world.clinician_token)
    assert body["behind"] is False
    assert all(w["position"] == "within" for w in body["weeks"][:7])
    steps = body["milestones"][0]
    assert steps["code"] == "steps_by_week_6"
    assert steps["status"] == "met"
    assert await _recovery_alerts(world) == []


async def test_slow_recovery_without_baseline_is_flagged_at_week_6(world: World) -> None:
    await _summarise(world, _slow, pre_days=0, weeks=7)
    body = await _trajectory(world, world.clinician_token)
    assert body["baseline"]["steps_per_day"] is None
    assert body["milestones"][1]["status"] == "not_applicable"
    alerts = await _recovery_alerts(world)
    assert [a["first_day"] for a in alerts] == [(SURGERY + timedelta(days=41)).isoformat()]
    assert "3,500 steps/day" in alerts[0]["message"]


async def test_entered_baseline_is_kept_with_its_history(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}/baseline"
    body = {"steps_per_day": 6_000, "source": "patient's phone, last 3 months"}
    refused = await world.client.put(url, json=body, headers=world.auth(world.patient_token))
    assert refused.status_code == 403
    other = await world.client.put(url, json=body, headers=world.auth(world.other_clinician_token))
    assert other.status_code == 404
    for bad in ({"steps_per_day": 5, "source": "x"}, {"steps_per_day": 5000, "source": " "}):
        response = await world.client.put(url, json=bad, headers=world.auth(world.clinician_token))
        assert response.status_code == 422, response.text
    done = await world.client.put(url, json=body, headers=world.auth(world.clinician_token))
    assert done.status_code == 200, done.text
    assert done.json()["baseline"] == {
        "steps_per_day": 6000.0,
        "source": "patient's phone, last 3 months",
        "kind": "entered",
        "valid_days": None,
        "measured_steps_per_day": None,
    }
    withdrawn = await world.client.put(
        url,
        json={"steps_per_day": None, "source": "phone counts were wrong"},
        headers=world.auth(world.clinician_token),
    )
    assert withdrawn.json()["baseline"]["steps_per_day"] is None
    assert [e["steps_per_day"] for e in withdrawn.json()["history"]] == [None, 6000]
    listed = await world.client.get(url, headers=world.auth(world.clinician_token))
    assert len(listed.json()["history"]) == 2
    assert isinstance(UUID(listed.json()["history"][1]["entered_by"]), UUID)


async def test_trajectory_of_another_teams_patient_is_not_found(world: World) -> None:
    response = await world.client.get(
        f"/v1/patients/{world.patient_id}/trajectory",
        headers=world.auth(world.other_clinician_token),
    )
    assert response.status_code == 404
    mine = await world.client.get(
        f"/v1/patients/{world.other_patient_id}/trajectory",
        headers=world.auth(world.other_patient_token),
    )
    assert mine.status_code == 200
    assert mine.json()["band"] == "minimal_access"


async def test_the_care_teams_list_builds_a_trajectory_again_only_when_its_inputs_change(
    world: World,
) -> None:
    await _summarise(world, _normal, pre_days=10, weeks=3)
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        patient = await get_patient(conn, world.patient_id)
        assert patient is not None

        async def trajectory() -> analysis.Trajectory:
            return (await team_trajectories(conn, [patient]))[patient.id]

        first = await trajectory()
        # Nothing changed: the list's next poll reuses the trajectory.
        assert await trajectory() is first
        # Days rewritten (late batches recomputed): built again from the new figures.
        for i in range(4):
            day = SURGERY + timedelta(days=i)
            summary = day_summary(day, minutes=20, steps=5_000, status="on_track")
            await store_summary(conn, patient_id=world.patient_id, day=day, summary=summary)
        rewritten = await trajectory()
        assert rewritten is not first
        assert rewritten.weeks[0].median_steps != first.weeks[0].median_steps
        assert await trajectory() is rewritten
        # A day deleted: built again.
        await conn.execute(
            "DELETE FROM daily_summaries WHERE patient_id = %s AND day = %s",
            (world.patient_id, SURGERY + timedelta(days=2)),
        )
        deleted = await trajectory()
        assert deleted is not rewritten
        assert deleted.weeks[0].valid_days == rewritten.weeks[0].valid_days - 1
        # An entered baseline: built again with it.
        entered = await world.client.put(
            f"/v1/patients/{world.patient_id}/baseline",
            json={"steps_per_day": 4_321, "source": "the patient's phone"},
            headers=world.auth(world.clinician_token),
        )
        assert entered.status_code == 200, entered.text
        with_baseline = await trajectory()
        assert with_baseline.baseline is not None
        assert with_baseline.baseline.steps_per_day == 4_321
        # Each version equals a trajectory built from scratch.
        assert with_baseline == await trajectory_of(conn, patient, today=patient_today(patient))
