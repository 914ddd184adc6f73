"""The patient's own view: today's goal, this week, what is allowed, the check-in, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from service.accounts import Principal
from service.api.deps import AppSettings, Conn
from service.audit import record_access
from service.checkins import RED_FLAGS, CheckinIn, record_checkin
from service.errors import NotFoundError
from service.patients import PatientRecord, get_patient
from service.web._data import DayPoint, local_today, summaries
from service.web._guard import home_of, to_login, validation_message, web_errors
from service.web._html import Html, el, void
from service.web._layout import error_page, html_response, page
from service.web._session import check_csrf, csrf_token, principal_or_none

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_RED_FLAG_LABELS = {
    "sharp_pain": "Sharp or shooting pain",
    "numbness_or_weakness": "New numbness or weakness in a leg, arm or foot",
    "excessive_fatigue": "Exhausted far more than usual",
    "wound_redness_or_drainage": "Wound red, swollen or leaking",
    "fever": "Fever",
}
# Self-logged activities: the kinds the check-in model accepts (service.checkins).
_ACTIVITY_KINDS = (("swimming", "Swimming"), ("elliptical", "Elliptical"), ("other", "Other"))
# Tunable default: two activity rows on the form (more can be sent in another check-in).
_ACTIVITY_ROWS = 2
# Pain numeric rating scale 0–10 (as CheckinIn.pain_0_10).
_PAIN_MAX = 10

# The regimen's reminders (DESIGN.md, "The regimen the software encodes").
REMINDERS = (
    "Stretch 2–3 times a day: hold each stretch 15–30 seconds, 5–10 minutes a session.",
    "Light strength work 2–3 times a week: 2–3 sets of 10–15 easy repetitions.",
    "Walk or ride the stationary bike every day; build up gradually, a little more each week.",
    "Stop and contact your care team if you feel sharp pain, new numbness or weakness, or unusual exhaustion.",
    "Some soreness the next day is normal. Being consistent every day beats rushing.",
)


def _goal_card(today_point: DayPoint | None, latest: DayPoint | None) -> Html:
    shown = today_point or latest
    targets = shown.targets if shown is not None else {}
    low, high = targets.get("aerobic_min_low"), targets.get("aerobic_min_high")
    longest = targets.get("max_session_min")
    if low is None or high is None:
        goal = el("p", "Your care team's plan appears here once your band has sent its first day.")
    else:
        goal = el(
            "p",
            el("strong", f"{low:g}–{high:g} minutes", class_="big"),
            " of walking or stationary biking today",
            f", in sessions of at most {longest:g} minutes." if longest else ".",
        )
    if today_point is None:
        progress = el(
            "p",
            "Today's activity has not arrived yet: keep your band on and near the hub.",
            class_="muted",
        )
    else:
        done = today_point.aerobic_min
        top = max(float(high or 0), done, 1)
        progress = el(
            "div",
            el("label", f"Done so far: {done} minutes", for_="today-meter", class_="big"),
            el(
                "meter",
                id="today-meter",
                value=done,
                min=0,
                max=top,
                low=low,
                high=high,
                optimum=high,
            ),
            el(
                "p",
                "Goal reached. Well done!"
                if low is not None and done >= low
                else "Every few minutes count.",
                class_="muted",
            ),
        )
    return el("div", goal, progress)


def _week_card(days: list[DayPoint], patient: PatientRecord, today: date) -> Html:
    since = (today - patient.surgery_date).days
    week_start = patient.surgery_date + timedelta(days=since // 7 * 7)
    by_day = {d.day: d for d in days}
    cells = []
    for i in range(7):
        day = week_start + timedelta(days=i)
        point = by_day.get(day)
        if day > today:
            mark, label = "", "coming"
        elif point is None or point.status == "insufficient_data":
            mark, label = "·", "no data"
        elif point.status in ("on_track", "above"):
            mark, label = "✓", "goal met"
        else:
            mark, label = "–", "below goal"
        cells.append(
            el(
                "li",
                el("span", day.strftime("%a"), class_="dow"),
                el("span", mark, class_="mark", aria_hidden="true"),
                el("span", label, class_="sr-only"),
                class_=f"day {label.replace(' ', '-')}",
            )
        )
    streak = 0
    day = (
        today
        if (today in by_day and by_day[today].status in ("on_track", "above"))
        else today - timedelta(days=1)
    )
    while day in by_day and by_day[day].status in ("on_track", "above"):
        streak += 1
        day -= timedelta(days=1)
    return el(
        "div",
        el(
            "p",
            el("strong", f"{streak} day{'s' if streak != 1 else ''} in a row", class_="big"),
            " on your goal.",
        ),
        el("ol", cells, class_="week", aria_label=f"Week {since // 7 + 1} since surgery"),
    )


def _allowed_card(patient: PatientRecord, today: date) -> Html:
    def cleared(kind: str) -> bool:
        on = patient.cleared_on(kind)
        return on is not None and on <= today

    allowed = ["Walking", "Stationary or recumbent bike"]
    not_yet = []
    notes = {
        "running": ("Running and jumping", "not until your surgeon clears high-impact activity"),
        "swimming": (
            "Swimming",
            "usually after 4–6 weeks, once the wound has healed and your team clears it",
        ),
        "elliptical": ("Elliptical trainer", "only once your care team clears it"),
    }
    for kind, (label, why) in notes.items():
        if cleared(kind):
            allowed.append(label)
        else:
            not_yet.append(el("li", el("strong", label), f": {why}."))
    return el(
        "div",
        el("h3", "Allowed now"),
        el("ul", [el("li", a) for a in allowed], class_="allowed"),
        el("h3", "Not yet"),
        el("ul", not_yet, class_="not-yet")
        if not_yet
        else el("p", "Everything on the list is cleared."),
    )


def _checkin_form(csrf: str) -> Html:
    pain = el(
        "fieldset",
        el("legend", "Pain right now (0 = none, 10 = worst imaginable)"),
        el(
            "div",
            [
                el(
                    "label",
                    void("input", type="radio", name="pain_0_10", value=str(n)),
                    el("span", str(n)),
                    class_="pill",
                )
                for n in range(_PAIN_MAX + 1)
            ],
            class_="pills",
        ),
        class_="field",
    )
    activities = [
        el(
            "div",
            el("label", f"Other activity {i + 1}", for_=f"kind-{i}"),
            el(
                "select",
                el("option", "none", value=""),
                [el("option", label, value=kind) for kind, label in _ACTIVITY_KINDS],
                id=f"kind-{i}",
                name=f"activity_kind_{i}",
            ),
            el("label", "minutes", for_=f"minutes-{i}"),
            void(
                "input",
                id=f"minutes-{i}",
                name=f"activity_minutes_{i}",
                type="number",
                min=1,
                max=600,
                inputmode="numeric",
            ),
            class_="field activity",
        )
        for i in range(_ACTIVITY_ROWS)
    ]
    flags = el(
        "fieldset",
        el("legend", "Any of these today?"),
        [
            el(
                "label",
                void("input", type="checkbox", name="red_flags", value=f),
                _RED_FLAG_LABELS.get(f, f.replace("_", " ")),
                class_="check",
            )
            for f in RED_FLAGS
        ],
        class_="field",
    )
    return el(
        "form",
        void("input", type="hidden", name="csrf", value=csrf),
        pain,
        el(
            "div",
            el("label", "Stretching sessions today", for_="stretching"),
            void(
                "input",
                id="stretching",
                name="stretching_sessions",
                type="number",
                min=0,
                max=20,
                value="0",
                inputmode="numeric",
            ),
            class_="field",
        ),
        el(
            "div",
            el(
                "label",
                void("input", type="checkbox", name="strength_session", value="true"),
                "I did my strength exercises today",
                class_="check",
            ),
            class_="field",
        ),
        activities,
        flags,
        el(
            "div",
            el("label", "Anything else for your care team?", for_="note"),
            el("textarea", id="note", name="note", rows=3, maxlength=2000),
            class_="field",
        ),
        el("button", "Send check-in", type="submit", class_="primary big-button"),
        method="post",
        action="/me/checkin",
        class_="stack checkin",
    )


async def _own_patient(conn: Conn, user: Principal) -> PatientRecord:
    patient = await get_patient(conn, user.patient_id) if user.patient_id else None
    if patient is None:
        raise NotFoundError("no patient record for this login")
    return patient


@router.get("/me")
@web_errors
async def me(request: Request, conn: Conn, sent: str = "") -> Response:
    """The patient's day: goal, progress, week, what is allowed, check-in and reminders."""
    user = await principal_or_none(conn, request)
    if user is None:
        return to_login(request)
    if user.role != "patient":
        return RedirectResponse(home_of(user), status_code=303)
    patient = await _own_patient(conn, user)
    await record_access(conn, principal=user, action="GET /me", patient_id=patient.id, allowed=True)
    today = local_today(patient)
    days = (
        await summaries(
            conn, patient_ids=[patient.id], first=today - timedelta(days=13), last=today
        )
    )[patient.id]
    today_point = next((d for d in days if d.day == today), None)
    since = (today - patient.surgery_date).days
    banner = None
    if sent == "redflag":
        banner = el(
            "p",
            "Thank you. Your care team has been alerted. If symptoms are severe or getting worse, stop activity and call your care team or emergency services now.",
            class_="banner error",
            role="alert",
        )
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
        banner,
        card("Today's goal", _goal_card(today_point, days[-1] if days else None), "goal", "goal"),
        card("This week", _week_card(days, patient, today), "week", "week"),
        card("What you may do", _allowed_card(patient, today), "allowed"),
        card("Daily check-in", _checkin_form(csrf_token(request)), "checkin"),
        card(
            "Reminders", el("ul", [el("li", r) for r in REMINDERS], class_="reminders"), "reminders"
        ),
    ]
    document = page(
        request, title="My day", body=body, user=user, live=True, body_class="patient-view"
    )
    return html_response(request, document)


def _checkin_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "stretching_sessions": form.get("stretching_sessions") or 0,
        "strength_session": form.get("strength_session") == "true",
        "red_flags": form.getlist("red_flags"),
        "note": str(form.get("note") or "").strip(),
        "activities": [],
    }
    if form.get("pain_0_10") not in (None, ""):
        values["pain_0_10"] = form.get("pain_0_10")
    for i in range(_ACTIVITY_ROWS):
        kind, minutes = form.get(f"activity_kind_{i}"), form.get(f"activity_minutes_{i}")
        if kind:
            values["activities"].append({"kind": kind, "minutes": minutes or 0})
    return values


@router.post("/me/checkin")
@web_errors
async def checkin(request: Request, conn: Conn, settings: AppSettings) -> Response:
    """Store the patient's check-in; red flags raise an urgent alert for the care team."""
    user = await principal_or_none(conn, request)
    if user is None:
        return to_login(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    if user.role != "patient":
        return RedirectResponse(home_of(user), status_code=303)
    patient = await _own_patient(conn, user)
    try:
        body = CheckinIn.model_validate(_checkin_values(form))
    except ValidationError as exc:
        return error_page(request, status=422, message=validation_message(exc), user=user)
    await record_access(
        conn, principal=user, action="POST /me/checkin", patient_id=patient.id, allowed=True
    )
    result = await record_checkin(
        conn,
        patient,
        body,
        by=user.user_id,
        digest_interval_s=settings.notify_digest_interval_s,
        now=datetime.now(UTC),
    )
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is not None and result.urgent_delivery_ids:
        await notifier.notify_soon(result.urgent_delivery_ids)
    return RedirectResponse("/me?sent=" + ("redflag" if body.red_flags else "ok"), status_code=303)
