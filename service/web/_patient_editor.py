"""The plan editor of the care team's patient page: heart-rate settings, clearances, overrides."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from service.patients import PatientRecord, PlanOverrideRecord
from service.patients.store import HR_MAX_BPM, HR_MIN_BPM
from service.web._html import Html, el, void
from service.web._patient_parts import csrf_field

__all__ = ["OVERRIDE_CHANGES", "editor_section"]

#: What a plan override may change (``PlanOverrideIn`` besides its date and note).
OVERRIDE_CHANGES = (
    "aerobic_min_low",
    "aerobic_min_high",
    "max_session_min",
    "hr_limit_bpm",
    "running_cleared",
    "swimming_cleared",
    "elliptical_cleared",
)


def _field(
    label: str, name: str, value: object, *, kind: str = "number", hint: str = "", **attrs: Any
) -> Html:
    field_id = f"f-{name}"
    return el(
        "div",
        el("label", label, for_=field_id),
        void(
            "input",
            id=field_id,
            name=name,
            type=kind,
            value="" if value is None else str(value),
            **attrs,
        ),
        el("small", hint, id=f"{field_id}-hint") if hint else None,
        class_="field",
    )


def _tri(label: str, name: str) -> Html:
    field_id = f"f-{name}"
    return el(
        "div",
        el("label", label, for_=field_id),
        el(
            "select",
            el("option", "as the plan says", value=""),
            el("option", "cleared", value="true"),
            el("option", "not cleared", value="false"),
            id=field_id,
            name=name,
        ),
        class_="field",
    )


def editor_section(
    patient: PatientRecord, overrides: Sequence[PlanOverrideRecord], *, today: date, csrf: str
) -> Html:
    """Forms for plan overrides, clearances and heart-rate settings, and the override history."""
    pid = str(patient.id)
    override_form = el(
        "form",
        el("h3", "Plan override"),
        csrf_field(csrf),
        _field("Effective from", "effective_from", today.isoformat(), kind="date", required=True),
        _field("Daily aerobic minutes, low", "aerobic_min_low", None, min=0, max=600, step="any"),
        _field("Daily aerobic minutes, high", "aerobic_min_high", None, min=0, max=600, step="any"),
        _field("Longest session, minutes", "max_session_min", None, min=1, max=600, step="any"),
        _field(
            "Heart-rate limit, beats/min",
            "hr_limit_bpm",
            None,
            min=HR_MIN_BPM,
            max=HR_MAX_BPM,
            step="any",
        ),
        _tri("Running", "running_cleared"),
        _tri("Swimming", "swimming_cleared"),
        _tri("Elliptical", "elliptical_cleared"),
        _field("Note", "note", "", kind="text", maxlength=2000),
        el("button", "Add override", type="submit", class_="primary"),
        method="post",
        action=f"/patients/{pid}/plan-overrides",
        class_="editor",
    )
    settings_form = el(
        "form",
        el("h3", "Clearances and heart-rate settings"),
        csrf_field(csrf),
        _field(
            "Running cleared on",
            "running_cleared_on",
            patient.running_cleared_on,
            kind="date",
            hint="empty: not cleared",
        ),
        _field(
            "Swimming cleared on",
            "swimming_cleared_on",
            patient.swimming_cleared_on,
            kind="date",
            hint="empty: not cleared",
        ),
        _field(
            "Elliptical cleared on",
            "elliptical_cleared_on",
            patient.elliptical_cleared_on,
            kind="date",
            hint="empty: not cleared",
        ),
        _field(
            "Resting heart rate, beats/min",
            "resting_hr_bpm",
            patient.resting_hr_bpm,
            min=HR_MIN_BPM,
            max=HR_MAX_BPM,
            step="any",
            hint="empty: estimated from the data",
        ),
        _field(
            "Maximum heart rate, beats/min",
            "max_hr_bpm",
            patient.max_hr_bpm,
            min=HR_MIN_BPM,
            max=HR_MAX_BPM,
            step="any",
            hint="empty: 208 − 0.7 × age (Tanaka 2001)",
        ),
        _field(
            "Heart-rate limit, beats/min",
            "hr_limit_bpm",
            patient.hr_limit_bpm,
            min=HR_MIN_BPM,
            max=HR_MAX_BPM,
            step="any",
            hint="empty: from the plan's heart-rate reserve",
        ),
        el(
            "div",
            void(
                "input",
                id="f-beta_blocker",
                name="beta_blocker",
                type="checkbox",
                value="true",
                checked=patient.beta_blocker,
            ),
            el("label", "Takes beta-blockers (heart-rate rules off)", for_="f-beta_blocker"),
            class_="field check",
        ),
        el("button", "Save settings", type="submit", class_="primary"),
        method="post",
        action=f"/patients/{pid}/settings",
        class_="editor",
    )
    history = [
        el(
            "li",
            f"from {o.effective_from}: ",
            ", ".join(
                f"{name.replace('_', ' ')} {value}"
                for name in OVERRIDE_CHANGES
                if (value := getattr(o, name)) is not None
            )
            or "no change",
            el("span", f" — {o.note}", class_="muted") if o.note else None,
        )
        for o in overrides
    ]
    return el(
        "div",
        el("div", override_form, settings_form, class_="editors"),
        el("h3", "Overrides in force order"),
        el("ul", history, class_="overrides")
        if history
        else el("p", "No overrides: the standard plan applies.", class_="empty"),
    )
