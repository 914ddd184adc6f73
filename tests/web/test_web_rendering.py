"""Pure rendering: escaping, charts with their numbers in tables, the need ordering of the list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from service.patients import PatientRecord
from service.web._charts import progression_chart, sparkline
from service.web._data import DayPoint, PatientRow, need_rank
from service.web._html import Html, el, esc
from service.web._team import ago
from service.web._timeline import session_timeline

SURGERY = date(2026, 5, 4)


def _summary(day: date, *, walking: int, biking: int, status: str = "on_track") -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "day_start_s": int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()),
        "n_minutes": 1440,
        "steps": 4000,
        "aerobic_minutes": walking + biking,
        "aerobic_minutes_by_kind": {"walking": walking, "biking": biking, "running": 0},
        "sessions": [],
        "heart_rate": {"resting_bpm": 60.0, "mean_bpm": 75.0, "max_bpm": 118.0, "limit_bpm": 110.0},
        "targets": {"aerobic_min_low": 10, "aerobic_min_high": 15, "max_session_min": 15},
        "status": status,
        "flags": [],
    }


def _patient(name: str) -> PatientRecord:
    return PatientRecord(
        id=uuid4(),
        team_id=uuid4(),
        display_name=name,
        birth_year=1960,
        tz="Europe/Berlin",
        surgery_type="fusion",
        surgery_date=SURGERY,
        approach="open",
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
    )


def test_text_is_escaped_and_markup_is_kept() -> None:
    node = el("p", "<b>x</b>", el("em", "ok"), title='"quoted"', hidden=True, data_x=None)
    assert node == '<p title="&quot;quoted&quot;" hidden>&lt;b&gt;x&lt;/b&gt;<em>ok</em></p>'
    assert esc(Html("<i>")) == "<i>"
    assert el("input", type="text", aria_label="Note") == '<input type="text" aria-label="Note">'


def test_progression_chart_stacks_walking_and_biking_and_tables_the_numbers() -> None:
    days = [
        DayPoint(
            day=SURGERY + timedelta(days=i),
            summary=_summary(SURGERY + timedelta(days=i), walking=8 + i, biking=i % 3),
        )
        for i in range(10)
    ]
    html = progression_chart(days, surgery_date=SURGERY)
    assert html.count('class="bar walking"') == 10
    assert html.count('class="bar biking"') == 6  # biking 0 on every third day draws nothing
    assert html.count('class="band"') == 10
    assert "wk 2" in html  # a week boundary is labelled
    # The same numbers, reachable as text: the last day walked 17 and biked 0.
    assert (
        "<td>2026-05-13</td><td>2</td><td>17</td><td>0</td><td>0</td><td>17</td><td>10–15</td>"
        in html
    )


def test_empty_states_say_so() -> None:
    assert "No analysed days yet" in progression_chart([], surgery_date=SURGERY)
    assert "no data" in sparkline([None, 5], target_min=10)


def test_session_timeline_places_sessions_on_the_local_day() -> None:
    day = date(2026, 3, 29)  # Europe/Berlin springs forward: a 23-hour day
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 29, tzinfo=zone)
    summary = _summary(day, walking=20, biking=0)
    summary |= {"day_start_s": int(start.timestamp()), "n_minutes": 1380}
    noon = int(datetime(2026, 3, 29, 12, tzinfo=zone).timestamp())
    summary["sessions"] = [
        {"kind": "walking", "start_s": noon, "end_s": noon + 1200, "duration_min": 20}
    ]
    html = session_timeline(DayPoint(day=day, summary=summary), hr=[], zone=zone)
    assert "<td>12:00</td><td>walking</td><td>20</td>" in html
    assert "1 session(s)" in html


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "just now"), (300, "5 min ago"), (7200, "2 h ago"), (3 * 86_400, "3 days ago")],
)
def test_ages_read_plainly(seconds: int, text: str) -> None:
    now = datetime(2026, 5, 10, 12, tzinfo=UTC)
    assert ago(now - timedelta(seconds=seconds), now) == text
    assert ago(None, now) == "never"


def test_the_list_sorts_by_need() -> None:
    today = SURGERY + timedelta(days=20)

    def row(name: str, *, alerts: dict[str, int], status: str | None, acked: int = 0) -> PatientRow:
        days = (
            ()
            if status is None
            else (DayPoint(day=today, summary=_summary(today, walking=5, biking=0, status=status)),)
        )
        return PatientRow(
            patient=_patient(name),
            today=today,
            days=days,
            open_alerts=alerts,
            acknowledged_alerts=acked,
            last_data_at=None,
        )

    rows = [
        row("Ann", alerts={}, status="on_track"),
        row("Bob", alerts={}, status="below"),
        row("Cid", alerts={"warning": 1}, status="on_track"),
        row("Dee", alerts={"urgent": 1}, status="on_track"),
        row("Eve", alerts={}, status=None),
        row("Fay", alerts={}, status="on_track", acked=2),
    ]
    ordered = [r.patient.display_name for r in sorted(rows, key=need_rank)]
    assert ordered == ["Dee", "Cid", "Bob", "Eve", "Ann", "Fay"]
    assert rows[0].silent(datetime.now(UTC))
