"""Pure rendering: escaping, charts with their numbers in tables, the need ordering of the list."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

import analysis
from service.patients import PatientRecord
from service.summaries import DayBrief
from service.web._charts import progression_chart, sparkline
from service.web._data import DeviceStatus
from service.web._html import Html, el, esc
from service.web._team import ago, team_table
from service.web._timeline import session_timeline
from service.web._triage import AlertBrief, ListQuery, PatientRow, need_rank, select_rows
from tests.fixtures.summaries import day_summary

SURGERY = date(2026, 5, 4)


def _summary(
    day: date, *, walking: int, biking: int, status: analysis.DayStatus = "on_track"
) -> analysis.DaySummary:
    return day_summary(
        day, minutes=walking + biking, biking=biking, status=status, low=10, high=15, max_session=15
    )


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
    days = [_summary(SURGERY + timedelta(days=i), walking=8 + i, biking=i % 3) for i in range(10)]
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
    noon = int(datetime(2026, 3, 29, 12, tzinfo=zone).timestamp())
    built = day_summary(day, minutes=20, status="on_track", sessions_min=(20,))
    summary = replace(
        built,
        day_start_s=int(start.timestamp()),
        n_minutes=1380,
        sessions=(replace(built.sessions[0], start_s=noon, end_s=noon + 1200),),
    )
    html = session_timeline(summary, hr=[], zone=zone)
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


def _row(
    name: str,
    today: date,
    *,
    alerts: tuple[AlertBrief, ...] = (),
    status: analysis.DayStatus | None,
    walking: int = 5,
    enrolled_days_ago: int = 30,
    record_number: str | None = None,
) -> PatientRow:
    days = (
        ()
        if status is None
        else (
            DayBrief.of(
                _summary(today - timedelta(days=1), walking=walking, biking=0, status=status)
            ),
        )
    )
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    patient = replace(
        _patient(name),
        created_at=now - timedelta(days=enrolled_days_ago),
        record_number=record_number,
    )
    last = now - timedelta(hours=1)
    device = DeviceStatus(last_sample_at=last, last_contact_at=last, battery_pct=80, devices=1)
    return PatientRow(
        patient=patient,
        today=today,
        days=days,
        alerts=alerts,
        device=device if status is not None else None,
        now=now,
    )


def _alert(rule: str, severity: str, state: str = "open", *, overdue: bool = False) -> AlertBrief:
    day = SURGERY + timedelta(days=18)
    return AlertBrief(
        rule=rule,
        severity=severity,
        state=state,
        first_day=day,
        last_day=day,
        opened_at=datetime(2026, 5, 22, 8, tzinfo=UTC),
        cleared_on=day + timedelta(days=2) if state == "cleared" else None,
        overdue=overdue,
    )


def test_the_list_sorts_by_need_and_an_over_target_day_is_never_on_track() -> None:
    today = SURGERY + timedelta(days=20)
    rows = [
        _row("Ann", today, status="on_track"),
        _row("Bob", today, status="below"),
        _row("Cid", today, alerts=(_alert("HR_OVER_LIMIT", "warning"),), status="on_track"),
        _row("Dee", today, alerts=(_alert("RED_FLAG_SYMPTOM", "urgent"),), status="on_track"),
        _row("Eve", today, status=None, enrolled_days_ago=1),
        _row(
            "Fay",
            today,
            alerts=(_alert("DAILY_OVER_TARGET", "warning", "acknowledged"),),
            status="on_track",
        ),
        _row("Gus", today, status="above", walking=75),
        _row(
            "Hal",
            today,
            alerts=(_alert("RED_FLAG_SYMPTOM", "urgent", overdue=True),),
            status="on_track",
        ),
        _row(
            "Ida",
            today,
            alerts=(_alert("DAILY_OVER_TARGET", "warning", "cleared"),),
            status="on_track",
        ),
        _row("Jon", today, status=None, enrolled_days_ago=5),
    ]
    ordered = [r.patient.display_name for r in sorted(rows, key=need_rank)]
    assert ordered == ["Hal", "Dee", "Cid", "Jon", "Ida", "Gus", "Bob", "Eve", "Ann", "Fay"]
    by_name = {r.patient.display_name: r for r in rows}
    assert by_name["Gus"].tier == "over"
    assert [r.text for r in by_name["Gus"].reasons()] == ["Over the plan on 23 May"]
    assert (
        by_name["Hal"]
        .reasons()[0]
        .text.startswith("Overdue: red-flag symptom reported since 22 May")
    )
    assert by_name["Cid"].reasons()[0].text == "Heart rate over limit since 22 May"
    assert by_name["Ida"].reasons()[0].text == (
        "Cleared, not reviewed: over target since 22 May, cleared 24 May"
    )
    assert "is the hub set up?" in by_name["Jon"].reasons()[0].text
    assert by_name["Bob"].reasons()[0].text == "Below target since 23 May"


def test_the_list_searches_filters_sorts_and_pages() -> None:
    today = SURGERY + timedelta(days=20)
    rows = [_row(f"Patient {i:03d}", today, status="on_track") for i in range(120)]
    rows.append(_row("Zed Over", today, status="above", walking=75, record_number="MRN-77"))
    shown, total = select_rows(rows, ListQuery(q="mrn-77"))
    assert total == 1
    assert shown[0].patient.display_name == "Zed Over"
    shown, total = select_rows(rows, ListQuery(status="over"))
    assert [r.patient.display_name for r in shown] == ["Zed Over"]
    shown, total = select_rows(rows, ListQuery(sort="name", desc=True, page=3))
    assert total == 121
    assert len(shown) == 21
    assert shown[-1].patient.display_name == "Patient 000"
    html = team_table(shown, rows[0].now, query=ListQuery(sort="name", desc=True, page=3))
    assert 'aria-sort="descending"' in html
