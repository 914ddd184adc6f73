"""The cards of the patient's own view: today's goal, this week, what is allowed, reminders."""

from __future__ import annotations

from datetime import date, timedelta

import analysis
from service.patients import PatientRecord
from service.summaries import DayBrief
from service.web._html import Html, el

__all__ = [
    "REMINDERS",
    "allowed_card",
    "day_messages",
    "goal_card",
    "over_plan",
    "streak_days",
    "week_card",
]

# The regimen's reminders (DESIGN.md, "The regimen the software encodes").
REMINDERS = (
    "Stretch 2–3 times a day: hold each stretch 15–30 seconds, 5–10 minutes a session.",
    "Light strength work 2–3 times a week: 2–3 sets of 10–15 easy repetitions.",
    "Walk or ride the stationary bike every day; build up gradually, a little more each week.",
    "Stop and contact your care team if you feel sharp pain, new numbness or weakness, or unusual exhaustion.",
    "Some soreness the next day is normal. Being consistent every day beats rushing.",
)


# Status of a day on the patient's week strip: (mark, label, css class). Only a day within the
# plan earns the tick; a day over the plan is never shown as a success.
_DAY_MARKS = {
    "on_track": ("✓", "within plan", "goal-met"),
    "above": ("!", "more than planned", "over-plan"),
    "below": ("–", "below goal", "below-goal"),
    "in_progress": ("…", "in progress", "in-progress"),
    "pre_operative": ("○", "before surgery", "pre-operative"),
}
_NO_DATA = ("·", "no data", "no-data")
_COMING = ("", "coming", "coming")
# Flags that mean the patient did more than the plan allows (analysis.FLAG_CODES).
_OVER_CODES = frozenset({"DAILY_OVER_TARGET", "SESSION_TOO_LONG"})


def over_plan(point: analysis.DaySummary | DayBrief | None) -> bool:
    """Whether the day went over the plan: too many minutes, a too-long session or a flag saying so."""
    if point is None:
        return False
    day = point if isinstance(point, DayBrief) else DayBrief.of(point)
    if day.before_surgery:
        return False  # the plan starts on the surgery day
    return (
        day.status == "above"
        or bool(day.flag_codes & _OVER_CODES)
        or day.aerobic_minutes > day.aerobic_min_high
        or day.longest_session_min > day.max_session_min
    )


def _advice(point: analysis.DaySummary, *, today: bool) -> Html:
    """Kind, plain advice after doing more than the plan: rest, split walks, less tomorrow."""
    high, longest = point.targets.aerobic_min_high, point.targets.max_session_min
    facts = []
    if point.aerobic_minutes > high:
        facts.append(f"{point.aerobic_minutes} minutes against a plan of at most {high:g}")
    if point.longest_session_min > longest:
        facts.append(
            f"one session of {point.longest_session_min:g} minutes, longer than the {longest:g} "
            "minutes your plan allows at a time"
        )
    when = "Today you have" if today else "Yesterday you"
    done = "done more than your plan" if today else "did more than your plan"
    return el(
        "div",
        el(
            "p",
            el("strong", f"{when} {done}", class_="big"),
            f": {'; '.join(facts)}." if facts else ".",
        ),
        el(
            "ul",
            el("li", "Please rest for the rest of today." if today else "Take it easier today."),
            el(
                "li",
                "Split long walks into shorter ones"
                + (f" of at most {longest:g} minutes" if longest else "")
                + ", with a rest between them.",
            ),
            el("li", "Do a little less tomorrow: more too soon can slow healing."),
            class_="advice-list",
        ),
        class_="advice",
        role="status",
    )


def day_messages(point: analysis.DaySummary | None) -> list[str]:
    """The patient-worded messages of the day's flags, without repeats."""
    if point is None:
        return []
    out: list[str] = []
    for f in point.flags:
        message = f.message.strip()
        if message and message not in out:
            out.append(message)
    return out


def goal_card(
    today_point: analysis.DaySummary | None,
    latest: analysis.DaySummary | None,
    *,
    last_complete: analysis.DaySummary | None = None,
) -> Html:
    """Today's goal and progress: in progress until the day ends, advice (never praise) when over."""
    shown = today_point or latest
    targets = shown.targets if shown is not None else None
    low = targets.aerobic_min_low if targets else None
    high = targets.aerobic_min_high if targets else None
    longest = targets.max_session_min if targets else None
    if low is None or high is None:
        goal = el("p", "Your care team's plan appears here once your band has sent its first day.")
    else:
        goal = el(
            "p",
            el("strong", f"{low:g}–{high:g} minutes", class_="big"),
            " of walking or stationary biking today",
            f", in sessions of at most {longest:g} minutes." if longest else ".",
        )
    yesterday = (
        _advice(last_complete, today=False)
        if last_complete is not None and over_plan(last_complete) and not over_plan(today_point)
        else None
    )
    if today_point is None:
        progress = el(
            "div",
            el(
                "p",
                el("span", "Today is in progress.", class_="day-state"),
                " Today's activity has not arrived yet: keep your band on and near the hub.",
                class_="muted",
            ),
            yesterday,
        )
        return el("div", goal, progress)
    done = today_point.aerobic_minutes
    top = max(float(high or 0), done, 1)
    if over_plan(today_point):
        note: Html = _advice(today_point, today=True)
    elif any(f.severity in ("warning", "urgent") for f in today_point.flags):
        note = el("p", "Please read the notes on today below.", class_="muted")
    elif low is not None and done >= float(low):
        note = el(
            "p",
            "You are within today's plan. Keep it steady: there is no need to do more.",
            class_="muted",
        )
    else:
        note = el(
            "p",
            el("span", "Today is in progress.", class_="day-state"),
            f" {done} of {low:g} minutes so far: every few minutes count."
            if low is not None
            else " Every few minutes count.",
            class_="muted",
        )
    messages = day_messages(today_point)
    return el(
        "div",
        goal,
        el("label", f"Done so far: {done} minutes", for_="today-meter", class_="big"),
        el("meter", id="today-meter", value=done, min=0, max=top, low=low, high=high, optimum=low),
        note,
        el(
            "ul",
            [el("li", m) for m in messages],
            class_="day-messages",
            aria_label="Notes on today",
        )
        if messages
        else None,
        yesterday,
    )


def streak_days(days: list[analysis.DaySummary], today: date) -> int:
    """Days in a row within the plan (``on_track`` only), ending today or yesterday."""
    by_day = {d.date: d for d in days}
    day = (
        today
        if today in by_day and by_day[today].status == "on_track"
        else today - timedelta(days=1)
    )
    streak = 0
    while day in by_day and by_day[day].status == "on_track":
        streak += 1
        day -= timedelta(days=1)
    return streak


def week_card(days: list[analysis.DaySummary], patient: PatientRecord, today: date) -> Html:
    since = (today - patient.surgery_date).days
    week_start = patient.surgery_date + timedelta(days=since // 7 * 7)
    by_day = {d.date: d for d in days}
    cells = []
    for i in range(7):
        day = week_start + timedelta(days=i)
        point = by_day.get(day)
        if day > today:
            mark, label, cls = _COMING
        elif over_plan(point):
            mark, label, cls = _DAY_MARKS["above"]
        elif day == today and (point is None or not point.judged):
            mark, label, cls = _DAY_MARKS["in_progress"]
        elif point is None:
            mark, label, cls = _NO_DATA
        else:
            mark, label, cls = _DAY_MARKS.get(point.status, _NO_DATA)
        cells.append(
            el(
                "li",
                el("span", day.strftime("%a"), class_="dow"),
                el("span", mark, class_="mark", aria_hidden="true"),
                el("span", label, class_="sr-only"),
                class_=f"day {cls}",
                title=label,
            )
        )
    streak = streak_days(days, today)
    return el(
        "div",
        el(
            "p",
            el("strong", f"{streak} day{'s' if streak != 1 else ''} in a row", class_="big"),
            " within your plan.",
        ),
        el("ol", cells, class_="week", aria_label=f"Week {since // 7 + 1} since surgery"),
        el(
            "p",
            "✓ within plan · ! more than planned · – below goal · … in progress · · no data",
            class_="muted small",
        ),
    )


def allowed_card(patient: PatientRecord, today: date) -> Html:
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
