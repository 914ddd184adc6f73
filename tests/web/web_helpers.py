"""Helpers for the web view tests: log in through the form, read CSRF tokens, store days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
import orjson
from psycopg import AsyncConnection

from analysis.flags import iso_utc
from tests.fixtures.service import PASSWORD

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


def day_summary(
    day: date,
    *,
    minutes: int,
    status: str,
    sessions_min: tuple[int, ...] = (),
    flags: tuple[dict[str, Any], ...] = (),
    low: float = 15,
    high: float = 20,
    max_session: float = 20,
) -> dict[str, Any]:
    """A stored daily summary in the shape of ``DaySummary.to_dict()`` (the parts views read)."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    sessions = []
    at = start + 9 * 3600
    for n in sessions_min:
        sessions.append(
            {
                "kind": "walking",
                "start": iso_utc(at),
                "end": iso_utc(at + 60 * n),
                "duration_min": n,
                "active_minutes": n,
                "steps": 100 * n,
            }
        )
        at += 60 * n + 3600
    return {
        "date": day.isoformat(),
        "day_start": iso_utc(start),
        "n_minutes": 1440,
        "steps": 4000,
        "wear_minutes": 900,
        "aerobic_minutes": minutes,
        "aerobic_minutes_by_kind": {"walking": minutes, "biking": 0, "running": 0},
        "sessions": sessions,
        "heart_rate": {"resting_bpm": 60.0, "mean_bpm": 80.0, "max_bpm": 118.0, "limit_bpm": 110.0},
        "targets": {
            "week": 2,
            "phase": "ramp",
            "aerobic_min_low": low,
            "aerobic_min_high": high,
            "max_session_min": max_session,
        },
        "status": status,
        "judged": status in ("below", "on_track", "above"),
        "flags": list(flags),
    }


async def store_day(conn: AsyncConnection[Any], patient_id: UUID, summary: dict[str, Any]) -> None:
    """Store ``summary`` as the patient's analysed day (replacing one stored before)."""
    await conn.execute(
        "INSERT INTO daily_summaries (patient_id, day, steps, wear_minutes, active_minutes,"
        " status, summary, analysis_version) VALUES (%s, %s, 4000, 900, %s, %s, %s::jsonb, 'test')"
        " ON CONFLICT (patient_id, day) DO UPDATE SET summary = EXCLUDED.summary,"
        " status = EXCLUDED.status",
        (
            patient_id,
            date.fromisoformat(summary["date"]),
            summary["aerobic_minutes"],
            summary["status"],
            orjson.dumps(summary).decode(),
        ),
    )
