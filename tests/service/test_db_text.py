"""Text loaded as UTF-8 bytes, whatever the connection's client encoding."""

from __future__ import annotations

import pytest
from psycopg import AsyncConnection

from service.db.text import utf8_cursor

TEXT = "Müller, 3 km, 2 €"  # each character exists in LATIN9 too


@pytest.mark.parametrize("client_encoding", ["UTF8", "LATIN9", "SQL_ASCII"])
async def test_text_loads_as_utf8_bytes(db_url: str, client_encoding: str) -> None:
    async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
        if client_encoding == "SQL_ASCII":
            # No declared encoding: the bytes are passed on as PostgreSQL sends them (UTF-8 here).
            await conn.execute("SET client_encoding TO 'SQL_ASCII'")
            cur = await utf8_cursor(conn).execute(
                "SELECT convert_from(%s, 'UTF8')", [TEXT.encode()]
            )
        else:
            await conn.execute(f"SET client_encoding TO '{client_encoding}'")
            cur = await utf8_cursor(conn).execute("SELECT %s::text, NULL::text", [TEXT])
        row = await cur.fetchone()
    assert row is not None
    assert row[0] == TEXT.encode()
