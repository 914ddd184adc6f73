"""Audit entries written on their own commit asynchronously, and the setting never leaks."""

from __future__ import annotations

from psycopg import AsyncConnection

from service.audit import record_event
from service.patients.access import check_patient_access
from tests.fixtures.service import World


async def _setting(conn: AsyncConnection) -> str:
    cur = await conn.execute("SELECT current_setting('synchronous_commit')")
    row = await cur.fetchone()
    assert row is not None
    return str(row[0])


async def _entries(conn: AsyncConnection, action: str) -> int:
    cur = await conn.execute("SELECT count(*) FROM audit_log WHERE action = %s", (action,))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_an_access_check_is_recorded_and_leaves_the_connection_as_it_was(
    world: World,
) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        access = await check_patient_access(
            conn,
            world.clinician_token,
            world.patient_id,
            action="GET /test/check",
            care_team_only=False,
        )
        assert access.decision == "allowed"
        assert await _entries(conn, "GET /test/check") == 1
        # The asynchronous commit was that statement's alone.
        assert await _setting(conn) == "on"
        async with conn.transaction():
            await check_patient_access(
                conn,
                world.clinician_token,
                world.patient_id,
                action="GET /test/in-transaction",
                care_team_only=False,
            )
            # Inside a transaction the entry commits with it, at the server's setting.
            assert await _setting(conn) == "on"
        assert await _entries(conn, "GET /test/in-transaction") == 1


async def test_an_event_on_its_own_commits_and_one_in_a_transaction_keeps_its_setting(
    world: World,
) -> None:
    async with await AsyncConnection.connect(world.db_url, autocommit=True) as conn:
        await record_event(
            conn, actor_kind="device", actor_id=None, action="POST /test/own", patient_id=None
        )
        assert await _entries(conn, "POST /test/own") == 1
        assert await _setting(conn) == "on"
        async with conn.transaction():
            await record_event(
                conn, actor_kind="device", actor_id=None, action="POST /test/tx", patient_id=None
            )
            assert await _setting(conn) == "on"
        assert await _entries(conn, "POST /test/tx") == 1
