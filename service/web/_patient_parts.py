"""Sections of the care team's patient page: alerts, flags, check-ins and the plan editor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import analysis
from service.alerts import AlertRecord
from service.checkins import CheckinRecord
from service.web._data import DeviceStatus
from service.web._html import Html, el, void
from service.web._triage import rule_words

__all__ = [
    "FLAG_EXPLANATIONS",
    "alerts_section",
    "checkins_section",
    "clinician_wording",
    "csrf_field",
    "flags_section",
    "hub_line",
    "weekly_table",
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


# Clinician phrasings of each flag, from its evidence (analysis/_day_rules.py, _history_rules.py,
# flags.py name these keys); a flag without the keys falls back to FLAG_EXPLANATIONS.
_CLINICIAN: Mapping[str, str] = {
    "HR_OVER_LIMIT": "{minutes_above_limit} min above the {limit_bpm:g} bpm limit; longest run"
    " {longest_min} min, peak minute mean {peak_minute_mean_bpm:g} bpm.",
    "SESSION_TOO_LONG": "{session_kind} session of {duration_min} min against a maximum of"
    " {max_session_min:g} min (week {week}); {sessions_over} session(s) over.",
    "DAILY_OVER_TARGET": "{aerobic_minutes} aerobic min against an upper target of"
    " {aerobic_min_high:g} min (week {week}).",
    "RAMP_TOO_FAST": "Median daily aerobic minutes rose from {last_week_median_min:g} to"
    " {this_week_median_min:g} week on week (allowed growth ×{growth_ratio:g}).",
    "HIGH_IMPACT_BEFORE_CLEARANCE": "{running_minutes} min at running cadence in {episodes}"
    " episode(s); high impact not cleared.",
    "BELOW_TARGET_STREAK": "{days_below} judged days below the {aerobic_min_low:g} min floor"
    " since {since}.",
    "NO_DATA": "{days_without_wear} days without enough wear since {first_day} (at most"
    " {max_wear_minutes_per_day} min of wear a day).",
    "RESTING_HR_RISE": "Resting HR {resting_bpm:g} bpm against a baseline of {baseline_bpm:g} bpm"
    " on {consecutive_days} days since {first_day}.",
}


def clinician_wording(code: str, evidence: Mapping[str, Any]) -> str:
    """A flag in the care team's words, derived from its code and evidence."""
    template = _CLINICIAN.get(code)
    if template is not None:
        try:
            return template.format(**evidence)
        except (KeyError, ValueError, TypeError):
            pass
    return FLAG_EXPLANATIONS.get(code, code.replace("_", " ").capitalize())


def hub_line(device: DeviceStatus | None, now: datetime) -> Html:
    """The hub's state: newest sample, last contact and battery."""
    if device is None:
        return el("p", "No hub set up yet.", class_="hub-line muted")

    def ago(at: datetime | None) -> str:
        if at is None:
            return "never"
        minutes = max(int((now - at).total_seconds() // 60), 0)
        if minutes < 1:
            return "just now"
        if minutes < 60:
            return f"{minutes} min ago"
        if minutes < 1440:
            return f"{minutes // 60} h ago"
        return f"{minutes // 1440} days ago"

    battery = f"{device.battery_pct} %" if device.battery_pct is not None else "not reported"
    return el(
        "p",
        el("strong", "Hub: "),
        f"newest data {ago(device.last_sample_at)} · last contact {ago(device.last_contact_at)}"
        f" · band battery {battery}",
        class_="hub-line",
    )


def weekly_table(days: Sequence[analysis.DaySummary], *, surgery_date: date) -> Html:
    """Weekly progress since surgery (as ``GET /v1/patients/{id}/progress``: summaries of the
    current analysis version) as a table."""
    current = [d for d in days if d.analysis_version == analysis.ANALYSIS_VERSION]
    weeks = analysis.weekly_progress(summaries=current, surgery_date=surgery_date)
    if not weeks:
        return el("p", "No analysed weeks yet.", class_="empty")
    head = (
        "Week",
        "Dates",
        "Days with data",
        "Judged days",
        "Median aerobic min/day",
        "Longest session min",
        "Days on track",
        "Adherence",
    )
    rows = [
        el(
            "tr",
            el("th", str(w.week), scope="row"),
            el("td", f"{w.start_date} – {w.end_date}"),
            el("td", str(w.days_with_summary)),
            el("td", str(w.judged_days)),
            el(
                "td",
                "–" if w.median_daily_aerobic_min is None else f"{w.median_daily_aerobic_min:g}",
            ),
            el("td", str(w.longest_session_min)),
            el("td", str(w.days_on_track)),
            el("td", f"{w.adherence_pct:g} %"),
        )
        for w in reversed(weeks)
    ]
    return el(
        "div",
        el(
            "table",
            el("caption", "Weeks since surgery, newest first"),
            el("thead", el("tr", [el("th", h, scope="col") for h in head])),
            el("tbody", rows),
            class_="weekly",
        ),
        class_="table-wrap",
    )


def csrf_field(token: str) -> Html:
    return void("input", type="hidden", name="csrf", value=token)


def _alert_actions(alert: AlertRecord, patient_id: str, csrf: str) -> Html | None:
    if alert.state == "resolved":
        return None
    forms = []
    verbs = (
        (("acknowledge", "Acknowledge"), ("resolve", "Resolve"))
        if alert.state in ("open", "cleared")
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


_STATE_WORDS = {"cleared": "cleared, not reviewed"}


def _alert_item(a: AlertRecord, patient_id: str, csrf: str) -> Html:
    days = a.first_day.isoformat() if a.first_day == a.last_day else f"{a.first_day} – {a.last_day}"
    history = [
        el("p", f"Acknowledged: {a.ack_note}", class_="muted") if a.ack_note else None,
        el("p", f"Resolved: {a.resolve_note}", class_="muted") if a.resolve_note else None,
    ]
    return el(
        "li",
        el("span", a.severity, class_=f"badge {a.severity}"),
        el("span", _STATE_WORDS.get(a.state, a.state), class_=f"badge state-{a.state}"),
        el("span", "overdue", class_="badge urgent overdue")
        if getattr(a, "overdue", False)
        else None,
        el("strong", f" {rule_words(a.rule).capitalize()}"),
        el("span", f" · {days} · {a.source}", class_="muted"),
        el("p", f"Told to the patient: {a.message}", class_="muted")
        if a.source == "analysis"
        else el("p", a.message, class_="muted"),
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


def flags_section(days: Sequence[analysis.DaySummary]) -> Html:
    """Flags of ``days``, newest first, with their evidence and what they mean."""
    items = []
    for d in reversed(days):
        for flag in d.flags:
            code = flag.code
            items.append(
                el(
                    "li",
                    el("span", flag.severity, class_=f"badge {flag.severity}"),
                    el(
                        "strong",
                        f" {d.date.isoformat()}: {clinician_wording(code, flag.evidence)}",
                    ),
                    el("p", FLAG_EXPLANATIONS.get(code, code), class_="muted"),
                    el(
                        "details",
                        el("summary", f"Evidence ({code})"),
                        _evidence(flag.evidence),
                    ),
                    class_="flag",
                )
            )
    if not items:
        return el("p", "No flags on these days.", class_="empty")
    return el("ul", items, class_="flags")


def checkins_section(checkins: Mapping[date, Sequence[CheckinRecord]]) -> Html:
    """The patient's check-ins, newest first."""
    rows = []
    for day in sorted(checkins, reverse=True):
        for c in reversed(checkins[day]):
            activities = ", ".join(f"{a.kind} {a.minutes} min" for a in c.activities)
            flags = ", ".join(f.replace("_", " ") for f in c.red_flags)
            rows.append(
                el(
                    "tr",
                    el("th", day.isoformat(), scope="row"),
                    el("td", "–" if c.pain_0_10 is None else f"{c.pain_0_10}/10"),
                    el("td", str(c.stretching_sessions)),
                    el("td", "yes" if c.strength_session else "no"),
                    el("td", activities or "–"),
                    el("td", el("span", flags, class_="badge urgent") if flags else "none"),
                    el("td", c.note),
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
