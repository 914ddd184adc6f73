"""The recovery trajectory on the pages: the chart with its band and table (patient page), the
"recovery vs expected" cell (team list) and an encouraging line (the patient's own view).

The patient hears the truth kindly: their line names the milestone reached or the next one, never
"behind", which is for the care team.
"""

from __future__ import annotations

from collections.abc import Sequence

import analysis
from service.web._html import Html, el, join
from service.web._svg import (
    PAD_L,
    fmt,
    legend,
    polyline,
    rect,
    scale,
    slot_width,
    svg,
    y_axis,
)

__all__ = ["encouraging_line", "recovery_cell", "trajectory_section"]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def _baseline_line(t: analysis.Trajectory) -> Html:
    b = t.baseline
    if b is None:
        return el(
            "p",
            "No baseline: fewer than 7 valid days were recorded before surgery and none was "
            "entered, so only the absolute milestone is judged.",
            class_="muted",
        )
    who = "" if b.kind == "pre_operative" else "entered by the care team, "
    return el("p", f"Baseline {b.steps_per_day:,.0f} steps/day: {who}{b.source}.")


def _chart(weeks: Sequence[analysis.TrajectoryWeek], baseline: bool) -> Html:
    # With a baseline: percent of it against the band; without: median steps against 3,500.
    values = [(w.pct_of_baseline if baseline else w.median_steps) for w in weeks]
    highs = [w.band_high_pct for w in weeks] if baseline else [3_500.0]
    # 10 % headroom above the highest point or band edge (tunable default).
    top = 1.1 * max([v or 0.0 for v in values] + highs + [1.0])
    step = slot_width(len(weeks))
    shapes = []
    if baseline:
        for i, w in enumerate(weeks):
            y_hi, y_lo = scale(w.band_high_pct, top), scale(w.band_low_pct, top)
            shapes.append(
                rect(x=PAD_L + i * step, y=y_hi, width=step, height=y_lo - y_hi, cls="band")
            )
    points = [(PAD_L + (i + 0.5) * step, v) for i, v in enumerate(values)]
    unit = " %" if baseline else ""
    label = (
        "Weekly median steps as percent of baseline against the expected band"
        if baseline
        else "Weekly median steps since surgery"
    )
    dots = [
        el("circle", cx=f"{x:.1f}", cy=f"{scale(v, top):.1f}", r=4, class_="dot")
        for x, v in points
        if v is not None
    ]
    return svg(label, y_axis(top, unit), join(shapes), polyline(points, top, "mean"), join(dots))


def _milestones(t: analysis.Trajectory) -> Html:
    items = []
    for m in t.milestones:
        if m.status == "met":
            late = m.due_week is not None and m.met_week is not None and m.met_week > m.due_week
            text = f"{m.label}: met on {m.met_on} (week {m.met_week}{', after it was due' if late else ''})"
        elif m.status == "missed":
            text = f"{m.label}: not met by week {m.due_week}"
        elif m.status == "not_applicable":
            text = f"{m.label}: needs a baseline"
        else:
            expected = f" (typically by {m.expected_by})" if m.expected_by else ""
            text = f"{m.label}: not yet{expected}"
        items.append(el("li", text, class_=f"milestone {m.status}"))
    return el("ul", items, class_="milestones")


def trajectory_section(t: analysis.Trajectory) -> Html:
    """The patient page's trajectory: baseline, chart with band, the same numbers, milestones."""
    weeks = list(t.weeks)
    has_baseline = t.baseline is not None
    rows = [
        (
            w.week,
            f"{w.start_date} – {w.end_date}",
            w.valid_days,
            fmt(w.median_steps),
            fmt(w.median_aerobic_min),
            _pct(w.pct_of_baseline),
            f"{w.band_low_pct:.0f}–{w.band_high_pct:.0f} %",
            f"{w.band_expected_pct:.0f} %",
            (w.position or "–") if w.complete else "in progress",
        )
        for w in weeks
    ]
    head = (
        "week",
        "dates",
        "valid days",
        "median steps",
        "median aerobic min",
        "% of baseline",
        "expected band",
        "expected",
        "position",
    )
    table = el(
        "div",
        el(
            "table",
            el("caption", f"Recovery by week ({t.band.replace('_', ' ')} band, {t.version})"),
            el("thead", el("tr", [el("th", h, scope="col") for h in head])),
            el("tbody", [el("tr", [el("td", str(c)) for c in r]) for r in rows]),
            id="trajectory-table",
        ),
        class_="table-wrap",
    )
    behind = (
        el("p", el("strong", "For the care team: "), t.behind_reason, id="trajectory-behind")
        if t.behind_reason
        else None
    )
    return el(
        "div",
        _baseline_line(t),
        behind,
        el(
            "figure",
            _chart(weeks, has_baseline),
            el(
                "figcaption",
                legend([("band", "expected band"), ("mean", "weekly median")]),
                "Expected band: Stienen 2020, Bienstock 2022, Global Spine J 2026 "
                "(analysis/data/recovery.json)."
                if has_baseline
                else "Without a baseline the milestone is 3,500 steps/day by week 6 (Master 2021).",
            ),
            class_="chart-figure",
            id="trajectory-chart",
        ),
        table,
        _milestones(t),
        class_="trajectory",
    )


def recovery_cell(t: analysis.Trajectory | None) -> Html:
    """The team list's "recovery vs expected" cell: the last complete week against its band."""
    if t is None:
        return el("td", el("span", "–", class_="muted"))
    done = [w for w in t.weeks if w.complete and w.median_steps is not None]
    if not done:
        return el("td", el("span", "no complete week yet", class_="muted"))
    w = done[-1]
    if w.pct_of_baseline is not None:
        text = (
            f"wk {w.week}: {w.pct_of_baseline:.0f} % of baseline "
            f"(expected {w.band_low_pct:.0f}–{w.band_high_pct:.0f} %)"
        )
    else:
        text = f"wk {w.week}: {w.median_steps:,.0f} steps/day (no baseline)"
    status = el("strong", " behind", class_="behind") if t.behind else None
    return el("td", text, status, title=t.behind_reason or None)


def encouraging_line(t: analysis.Trajectory) -> str:
    """One kind sentence for the patient: the milestone reached, or the next one to aim for."""
    steps, back = t.milestones
    met = [m for m in t.milestones if m.status == "met" and m.met_on is not None]
    if met:
        latest = sorted(met, key=lambda m: str(m.met_on))[-1]
        line = f"Well done: you reached {latest.label} on {latest.met_on}."
        following = next((m for m in (steps, back) if m.status in ("pending", "missed")), None)
        if following is not None:
            line += f" Next: {following.label}."
        return line
    if steps.status in ("pending", "missed"):
        return (
            f"Every walk counts. Your next milestone: {steps.label.replace(' by week 6', '')} "
            "— build up a little at a time, as your plan says."
        )
    return "Every walk counts: keep building up a little at a time, as your plan says."
