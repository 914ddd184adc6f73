"""Concurrent requests: patient edits keep their history chain, the login limit is exact."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from service.auth import passwords
from tests.fixtures.service import World

# Tunable default of the settings (login_max_failures_per_account).
ACCOUNT_LIMIT = 5


async def test_concurrent_patches_of_one_field_keep_the_history_chain(world: World) -> None:
    url = f"/v1/patients/{world.patient_id}"
    clinician = world.auth(world.clinician_token)
    for round_ in range(3):
        values = [100 + 10 * round_ + i for i in range(4)]
        answers = await asyncio.gather(
            *(world.client.patch(url, json={"hr_limit_bpm": v}, headers=clinician) for v in values)
        )
        assert [a.status_code for a in answers] == [200] * len(values)
    history = await world.client.get(f"{url}/history?limit=200", headers=clinician)
    rows = [r for r in history.json() if r["field"] == "hr_limit_bpm"]
    assert len(rows) >= 3
    assert rows[0]["old_value"] is None
    for before, after in itertools.pairwise(rows):
        assert after["old_value"] == before["new_value"], rows
    final = (await world.client.get(url, headers=clinician)).json()["hr_limit_bpm"]
    assert final == rows[-1]["new_value"]


async def test_concurrent_wrong_logins_let_exactly_the_limit_through(world: World) -> None:
    answers = await asyncio.gather(
        *(
            world.client.post(
                "/v1/auth/token",
                data={"username": "nurse@north.example", "password": f"wrong guess {i}"},
            )
            for i in range(3 * ACCOUNT_LIMIT)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == ACCOUNT_LIMIT, codes
    assert codes.count(429) == 2 * ACCOUNT_LIMIT, codes


async def test_a_successful_login_takes_its_attempt_back(world: World) -> None:
    for _ in range(ACCOUNT_LIMIT + 2):
        response = await world.client.post(
            "/v1/auth/token",
            data={"username": "nurse@north.example", "password": "correct horse battery"},
        )
        assert response.status_code == 200, response.text


async def test_password_hashing_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    real = passwords.verify_password

    def spy(password_hash: str | None, password: str) -> bool:
        seen.append(threading.get_ident())
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    digest = await passwords.hash_password_async("correct horse battery")
    assert await passwords.verify_password_async(digest, "correct horse battery")
    assert seen
    assert loop_thread not in seen
