"""Logins: throttling per account and per address, immediate revocation, admin management."""

from __future__ import annotations

from tests.fixtures.service import PASSWORD, World, login


async def _try(world: World, email: str, password: str) -> int:
    response = await world.client.post(
        "/v1/auth/token", data={"username": email, "password": password}
    )
    return response.status_code


async def test_login_is_throttled_per_account(world: World) -> None:
    # Defaults: 5 failures per account within the window.
    statuses = [await _try(world, "nurse@north.example", "wrong password!") for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    response = await world.client.post(
        "/v1/auth/token", data={"username": "NURSE@north.example", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/problem+json"
    # Another account from the same address is still allowed.
    assert await _try(world, "nurse@south.example", PASSWORD) == 200


async def test_login_is_throttled_per_address(world: World) -> None:
    # Defaults: 20 failures per address; unknown accounts count too (no enumeration).
    statuses = [await _try(world, f"nobody{i}@example.org", "wrong password!") for i in range(21)]
    assert statuses == [401] * 20 + [429]
    assert await _try(world, "nurse@south.example", PASSWORD) == 429


async def test_a_successful_login_clears_the_account_count(world: World) -> None:
    for _ in range(4):
        assert await _try(world, "nurse@north.example", "wrong password!") == 401
    assert await _try(world, "nurse@north.example", PASSWORD) == 200
    for _ in range(4):
        assert await _try(world, "nurse@north.example", "wrong password!") == 401
    assert await _try(world, "nurse@north.example", PASSWORD) == 200


async def test_logout_revokes_at_once(world: World) -> None:
    token = await login(world.client, "nurse@north.example")
    assert (await world.client.get("/v1/auth/me", headers=world.auth(token))).status_code == 200
    assert (
        await world.client.post("/v1/auth/logout", headers=world.auth(token))
    ).status_code == 204
    assert (await world.client.get("/v1/auth/me", headers=world.auth(token))).status_code == 401


async def test_password_change_revokes_every_token(world: World) -> None:
    other_session = await login(world.client, "nurse@north.example")
    response = await world.client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 204
    for token in (world.clinician_token, other_session):
        me = await world.client.get("/v1/auth/me", headers=world.auth(token))
        assert me.status_code == 401
    assert await _try(world, "nurse@north.example", PASSWORD) == 401
    assert await _try(world, "nurse@north.example", "a brand new passphrase") == 200


async def test_wrong_current_password_changes_nothing(world: World) -> None:
    response = await world.client.post(
        "/v1/auth/password",
        json={"current_password": "not my password", "new_password": "a brand new passphrase"},
        headers=world.auth(world.clinician_token),
    )
    assert response.status_code == 401
    me = await world.client.get("/v1/auth/me", headers=world.auth(world.clinician_token))
    assert me.status_code == 200


async def test_disabling_an_account_revokes_its_tokens(world: World) -> None:
    admin = world.auth(world.admin_token)
    users = (await world.client.get("/v1/users", headers=admin)).json()
    nurse = next(u for u in users if u["email"] == "nurse@north.example")
    response = await world.client.patch(
        f"/v1/users/{nurse['id']}", json={"disabled": True}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["disabled_at"] is not None
    me = await world.client.get("/v1/auth/me", headers=world.auth(world.clinician_token))
    assert me.status_code == 401
    assert await _try(world, "nurse@north.example", PASSWORD) == 401
    await world.client.patch(f"/v1/users/{nurse['id']}", json={"disabled": False}, headers=admin)
    assert await _try(world, "nurse@north.example", PASSWORD) == 200


async def test_admin_sets_up_a_team_with_a_clinician(world: World) -> None:
    admin = world.auth(world.admin_token)
    team = await world.client.post("/v1/teams", json={"name": "west"}, headers=admin)
    assert team.status_code == 201
    created = await world.client.post(
        "/v1/users",
        json={
            "email": "doc@west.example",
            "password": "west side passphrase",
            "role": "clinician",
            "team": "west",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["team_ids"] == [team.json()["id"]]
    duplicate = await world.client.post(
        "/v1/users",
        json={"email": "DOC@west.example", "password": "west side passphrase", "role": "admin"},
        headers=admin,
    )
    assert duplicate.status_code == 409
    token = await login(world.client, "doc@west.example", "west side passphrase")
    assert (await world.client.get("/v1/patients", headers=world.auth(token))).json() == []
