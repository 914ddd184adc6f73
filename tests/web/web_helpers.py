"""Helpers for the web view tests: log in through the form, read CSRF tokens, store days.

Days are whole :class:`analysis.DaySummary` objects (:func:`tests.fixtures.summaries.day_summary`)
stored through :func:`service.summaries.store_summary`.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import httpx
from psycopg import AsyncConnection

import analysis
from service.summaries import store_summary
from tests.fixtures.service import PASSWORD
from tests.fixtures.summaries import day_summary

__all__ = ["csrf_of", "day_summary", "store_day", "web_login"]

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The first CSRF token on a page."""
    found = _CSRF.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


async def web_login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the form as a browser does (cookies stay in ``client``)."""
    client.cookies.clear()
    form = await client.get("/login")
    assert form.status_code == 200
    response = await client.post(
        "/login", data={"username": email, "password": password, "csrf": csrf_of(form.text)}
    )
    assert response.status_code == 303, response.text


async def store_day(
    conn: AsyncConnection[Any], patient_id: UUID | str, summary: analysis.DaySummary
) -> None:
    """Store ``summary`` as the patient's analysed day, as the worker does (replacing one stored
    before)."""
    await store_summary(conn, patient_id=UUID(str(patient_id)), day=summary.date, summary=summary)
