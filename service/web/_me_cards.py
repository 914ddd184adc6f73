"""The cards of the patient's own view: today's goal, this week, what is allowed, reminders."""

from __future__ import annotations

from datetime import date, timedelta

from service.patients import PatientRecord
from service.web._data import DayPoint
from service.web._html import Html, el

__all__ = ["REMINDERS", "allowed_card", "goal_card", "week_card"]

# The regimen's reminders (DESIGN.md, "The regimen the software encodes").
REMINDERS = (
    "Stretch 2–3 times a day: hold each stretch 15–30 seconds, 5–10 minutes a session.",
    "Light strength work 2–3 times a week: 2–3 sets of 10–15 easy repetitions.",
    "Walk or ride the stationary bike every day; build up gradually, a little more each week.",
    "Stop and contact your care team if you feel sharp pain, new numbness or weakness, or unusual exhaustion.",
    "Some soreness the next day is normal. Being consistent every day beats rushing.",
)


def goal_card(today_point: DayPoint | None, latest: DayPoint | None) -> Html:
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


def week_card(days: list[DayPoint], patient: PatientRecord, today: date) -> Html:
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
