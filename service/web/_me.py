"""The patient's own view: today's goal, this week, what is allowed, the check-in, reminders."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.api.deps import Conn, PageUser, ScopedPatient
from service.checkins import checkins_for_days
from service.summaries import stored_summaries
from service.trajectory import trajectory_of
from service.web._data import local_today
from service.web._guard import web_errors
from service.web._html import Html, el
from service.web._import_upload import upload_form
from service.web._layout import html_response, page
from service.web._me_cards import REMINDERS, allowed_card, goal_card, week_card
from service.web._me_checkin import EMPTY_CHECKIN, checkin_form, reported_today
from service.web._session import csrf_token
from service.web._trajectory import encouraging_line

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/me")
@web_errors
async def me(
    request: Request, conn: Conn, user: PageUser, patient: ScopedPatient, sent: str = ""
) -> Response:
    """The patient's day: goal, progress, week, what is allowed, check-in and reminders."""
    today = local_today(patient)
    days = (
        await stored_summaries(
            conn, patient_ids=[patient.id], first=today - timedelta(days=13), last=today
        )
    )[patient.id]
    today_point = next((d for d in days if d.date == today), None)
    last_complete = next((d for d in reversed(days) if d.date < today), None)
    reported = (await checkins_for_days(conn, patient_id=patient.id, first=today, last=today)).get(
        today, []
    )
    since = (today - patient.surgery_date).days
    trajectory = await trajectory_of(conn, patient, today=today)
    banner = None
    if sent == "redflag":
        banner = el(
            "p",
            "Thank you. Your care team has been alerted. If symptoms are severe or getting worse, stop activity and call your care team or emergency services now.",
            class_="banner error",
            role="alert",
        )
    elif sent == "imported":
        banner = el("p", "Thank you, your files were imported.", class_="banner ok", role="status")
    elif sent == "no-files":
        banner = el("p", "No file was chosen to import.", class_="banner error", role="alert")
    elif sent == "empty":
        banner = el("p", EMPTY_CHECKIN, class_="banner error", role="alert")
    elif sent:
        banner = el("p", "Thank you, your check-in was sent.", class_="banner ok", role="status")

    def card(title: str, body: Html, card_id: str, live: str | None = None) -> Html:
        return el(
            "section",
            el("h2", title, id=f"{card_id}-title"),
            body,
            class_="card",
            id=card_id,
            aria_labelledby=f"{card_id}-title",
            data_live=live,
        )

    body = [
        el("h1", f"Hello, {patient.display_name.split(' ')[0]}"),
        el("p", f"Day {since} after your surgery (week {since // 7 + 1}).", class_="muted"),
        el("p", encouraging_line(trajectory), id="milestone-line"),
        banner,
        card(
            "Today's goal",
            goal_card(today_point, days[-1] if days else None, last_complete=last_complete),
            "goal",
            "goal",
        ),
        card("This week", week_card(days, patient, today), "week", "week"),
        card("What you may do", allowed_card(patient, today), "allowed"),
        card(
            "Daily check-in",
            Html(reported_today(reported) + checkin_form(csrf_token(request))),
            "checkin",
        ),
        card(
            "Import from your watch or phone",
            upload_form("/me/import", csrf_token(request)),
            "import",
        ),
        card(
            "Reminders", el("ul", [el("li", r) for r in REMINDERS], class_="reminders"), "reminders"
        ),
    ]
    document = page(
        request, title="My day", body=body, user=user, live=True, body_class="patient-view"
    )
    return html_response(request, document)
