"""Sections of the care team's patient page: alerts, flags, check-ins and the plan editor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from service.alerts import AlertRecord
from service.web._data import DayPoint
from service.web._html import Html, el, void

__all__ = [
    "FLAG_EXPLANATIONS",
    "alerts_section",
    "checkins_section",
    "csrf_field",
    "flags_section",
]

#: What each analysis flag means for the care team, in plain language (analysis.flags codes).
FLAG_EXPLANATIONS: Mapping[str, str] = {
    "HR_OVER_LIMIT": "Heart rate stayed above the patient's limit: the effort was harder than planned.",
    "SESSION_TOO_LONG": "One session ran longer than the plan allows for this week.",
    "DAILY_OVER_TARGET": "The day's aerobic minutes went above the plan's upper target.",
    "RAMP_TOO_FAST": "Activity rose faster than the gradual progression the plan asks for.",
    "HIGH_IMPACT_BEFORE_CLEARANCE": "Running-like cadence before the surgeon cleared high-impact activity.",
    "BELOW_TARGET_STREAK": "Several days in a row below the plan's daily target.",
    "NO_DATA": "Too little wear to judge the day: the band was off or the hub did not upload.",
    "RESTING_HR_RISE": "Resting heart rate rose above the patient's recent baseline.",
}


def csrf_field(token: str) -> Html:
    return void("input", type="hidden", name="csrf", value=token)


def _alert_actions(alert: AlertRecord, patient_id: str, csrf: str) -> Html | None:
    if alert.state == "resolved":
        return None
    forms = []
    verbs = (
        (("acknowledge", "Acknowledge"), ("resolve", "Resolve"))
        if alert.state == "open"
        else (("resolve", "Resolve"),)
    )
    for verb, label in verbs:
        field_id = f"note-{verb}-{alert.id}"
        forms.append(
            el(
                "form",
                csrf_field(csrf),
                el("label", f"{label} with a note", for_=field_id),
                void(
                    "input",
                    id=field_id,
                    name="note",
                    type="text",
                    required=True,
                    maxlength=2000,
                    autocomplete="off",
                ),
                el(
                    "button",
                    label,
                    type="submit",
                    class_="primary" if verb == "acknowledge" else None,
                ),
                method="post",
                action=f"/patients/{patient_id}/alerts/{alert.id}/{verb}",
                class_="inline-form",
            )
        )
    return el("div", forms, class_="alert-actions")


def alerts_section(alerts: Sequence[AlertRecord], *, patient_id: str, csrf: str) -> Html:
    """Unresolved alerts with acknowledge/resolve forms, then the recently resolved."""
    if not alerts:
        return el("p", "No alerts for this patient.", class_="empty")
    current = [_alert_item(a, patient_id, csrf) for a in alerts if a.state != "resolved"]
    resolved = [_alert_item(a, patient_id, csrf) for a in alerts if a.state == "resolved"]
    return el(
        "div",
        el("ul", current, class_="alerts")
        if current
        else el("p", "No open alerts.", class_="empty"),
        el(
            "details",
            el("summary", f"Resolved alerts ({len(resolved)})"),
            el("ul", resolved, class_="alerts"),
        )
        if resolved
        else None,
    )


def _alert_item(a: AlertRecord, patient_id: str, csrf: str) -> Html:
    days = a.first_day.isoformat() if a.first_day == a.last_day else f"{a.first_day} – {a.last_day}"
    history = [
        el("p", f"Acknowledged: {a.ack_note}", class_="muted") if a.ack_note else None,
        el("p", f"Resolved: {a.resolve_note}", class_="muted") if a.resolve_note else None,
    ]
    return el(
        "li",
        el("span", a.severity, class_=f"badge {a.severity}"),
        el("span", a.state, class_=f"badge state-{a.state}"),
        el("strong", f" {a.message}"),
        el("p", f"{a.rule.replace('_', ' ').lower()} · {a.source} · {days}", class_="muted"),
        history,
        _alert_actions(a, patient_id, csrf),
        class_=f"alert alert-{a.state}",
        data_alert=str(a.id),
    )


def _evidence(evidence: Mapping[str, Any]) -> Html:
    return el(
        "dl",
        [[el("dt", k.replace("_", " ")), el("dd", str(v))] for k, v in evidence.items()],
        class_="evidence",
    )


def flags_section(days: Sequence[DayPoint]) -> Html:
    """Flags of ``days``, newest first, with their evidence and what they mean."""
    items = []
    for d in reversed(days):
        for flag in d.summary.get("flags") or ():
            code = str(flag.get("code"))
            items.append(
                el(
                    "li",
                    el(
                        "span",
                        flag.get("severity", "info"),
                        class_=f"badge {flag.get('severity', 'info')}",
                    ),
                    el("strong", f" {d.day.isoformat()}: {flag.get('message', code)}"),
                    el("p", FLAG_EXPLANATIONS.get(code, code)),
                    el(
                        "details",
                        el("summary", f"Evidence ({code})"),
                        _evidence(flag.get("evidence") or {}),
                    ),
                    class_="flag",
                )
            )
    if not items:
        return el("p", "No flags on these days.", class_="empty")
    return el("ul", items, class_="flags")


def checkins_section(checkins: Mapping[date, Sequence[Mapping[str, Any]]]) -> Html:
    """The patient's check-ins, newest first."""
    rows = []
    for day in sorted(checkins, reverse=True):
        for c in reversed(checkins[day]):
            activities = ", ".join(
                f"{a['kind']} {a['minutes']} min" for a in c.get("activities") or ()
            )
            flags = ", ".join(str(f).replace("_", " ") for f in c.get("red_flags") or ())
            rows.append(
                el(
                    "tr",
                    el("th", day.isoformat(), scope="row"),
                    el("td", "–" if c.get("pain_0_10") is None else f"{c['pain_0_10']}/10"),
                    el("td", str(c.get("stretching_sessions", 0))),
                    el("td", "yes" if c.get("strength_session") else "no"),
                    el("td", activities or "–"),
                    el("td", el("span", flags, class_="badge urgent") if flags else "none"),
                    el("td", c.get("note") or ""),
                )
            )
    if not rows:
        return el("p", "No check-ins in the last 30 days.", class_="empty")
    head = ("Day", "Pain", "Stretching", "Strength", "Self-logged", "Red flags", "Note")
    return el(
        "div",
        el(
            "table",
            el("caption", "Check-ins, last 30 days"),
            el("thead", el("tr", [el("th", h, scope="col") for h in head])),
            el("tbody", rows),
        ),
        class_="table-wrap",
    )
