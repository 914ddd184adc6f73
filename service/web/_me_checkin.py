"""The patient's daily check-in: the form on their view and the route that stores it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from psycopg import AsyncConnection
from starlette.responses import RedirectResponse, Response

from service.api.deps import AppSettings, Conn, PageUser, ScopedPatient
from service.checkins import RED_FLAGS, CheckinIn, CheckinRecord, record_checkin
from service.web._guard import form_errors
from service.web._html import Html, el, void
from service.web._layout import error_page

__all__ = ["EMPTY_CHECKIN", "checkin_form", "reported_today", "router"]

EMPTY_CHECKIN = (
    "Your check-in was empty, so nothing was sent: choose your pain level, or fill in what you "
    "did or how you feel, then send it."
)

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


def checkin_form(csrf: str) -> Html:
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


def reported_today(checkins: Sequence[CheckinRecord]) -> Html:
    """What the patient has already sent today, newest last, in their own words."""
    if not checkins:
        return el("p", "Nothing sent yet today.", class_="muted", id="reported-today")
    items = []
    for c in checkins:
        parts = []
        if c.pain_0_10 is not None:
            parts.append(f"pain {c.pain_0_10}/10")
        if c.stretching_sessions:
            parts.append(f"{c.stretching_sessions} stretching session(s)")
        if c.strength_session:
            parts.append("strength exercises")
        parts.extend(f"{a.kind.replace('_', ' ')} {a.minutes} min" for a in c.activities)
        parts.extend(_RED_FLAG_LABELS.get(f, f.replace("_", " ")).lower() for f in c.red_flags)
        items.append(
            el(
                "li",
                ", ".join(parts) or "a note",
                el("q", c.note) if c.note else None,
                data_checkin=str(c.id),
                title=c.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    return el(
        "div",
        el("h3", "Already sent today"),
        el("ul", items, class_="reported"),
        id="reported-today",
    )


def is_empty(values: dict[str, Any]) -> bool:
    """Nothing reported: no pain level, no exercise, no activity, no symptom and no note."""
    return (
        "pain_0_10" not in values
        and str(values.get("stretching_sessions") or "0").strip() in ("", "0")
        and not values["strength_session"]
        and not values["red_flags"]
        and not values["activities"]
        and not values["note"]
    )


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


async def _rejected(request: Request, conn: AsyncConnection[Any], reasons: str) -> Response:
    return error_page(request, status=422, message=reasons, user=request.state.principal)


@router.post("/me/checkin")
@form_errors(_rejected)
async def checkin(
    request: Request, conn: Conn, settings: AppSettings, user: PageUser, patient: ScopedPatient
) -> Response:
    """Store the patient's check-in; red flags raise an urgent alert for the care team."""
    values = _checkin_values(await request.form())
    if is_empty(values):
        return RedirectResponse("/me?sent=empty#checkin", status_code=303)
    body = CheckinIn.model_validate(values)
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
