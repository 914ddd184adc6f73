"""Charts as inline SVG drawn on the server, each paired with a table of the same numbers.

The SVGs are decorative for assistive technology (``aria-hidden``) except for a short summary
label; the figures themselves are always in an HTML table next to the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import analysis
from service.web._html import Html, el, join
from service.web._svg import (
    PAD_B,
    PAD_L,
    PAD_R,
    PAD_T,
    H,
    W,
    chart_table,
    column,
    fmt,
    legend,
    polyline,
    rect,
    scale,
    slot_width,
    svg,
    y_axis,
)

__all__ = [
    "hr_chart",
    "progression_chart",
    "sparkline",
    "steps_chart",
]

_KINDS = ("walking", "biking", "running")


def _by_kind(day: analysis.DaySummary, kind: str) -> int:
    """The day's aerobic minutes of ``kind`` (0 when none)."""
    return int(day.aerobic_minutes_by_kind.get(kind, 0))


def sparkline(values: Sequence[int | None], *, target_min: float | None) -> Html:
    """A small bar sparkline of daily aerobic minutes (``None``: no summary that day)."""
    width, height = 140, 32
    top = max([v or 0 for v in values] + [target_min or 0, 1])
    step = width / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        # A day without a summary is a 1-unit stub; a day with one is at least 1 unit high.
        h = 1.0 if v is None else max(v / top * height, 1)
        cls = "spark-none" if v is None else "spark-ok"
        if v is not None and target_min is not None and v < target_min:
            cls = "spark-below"
        bars.append(rect(x=i * step, y=height - h, width=step - 1, height=h, cls=cls))
    if target_min:
        y = height - target_min / top * height
        bars.append(el("line", x1=0, x2=width, y1=f"{y:.1f}", y2=f"{y:.1f}", class_="spark-target"))
    text = ", ".join("no data" if v is None else f"{v}" for v in values)
    return el(
        "span",
        el(
            "svg",
            *bars,
            viewBox=f"0 0 {width} {height}",
            class_="spark",
            aria_hidden="true",
            focusable="false",
        ),
        el("span", f"Aerobic minutes, last {len(values)} days: {text}", class_="sr-only"),
        class_="spark-wrap",
    )


def _week_labels(days: Sequence[analysis.DaySummary], surgery_date: date, step: float) -> Html:
    marks = []
    for i, d in enumerate(days):
        since = (d.date - surgery_date).days
        if since % 7 == 0:
            x = PAD_L + i * step
            marks.append(
                el("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=PAD_T, y2=H - PAD_B, class_="week")
            )
            # A label needs about 30 units: none is drawn across the right edge.
            if x < W - PAD_R - 30:
                marks.append(
                    el("text", f"wk {since // 7 + 1}", x=f"{x + 2:.1f}", y=H - 8, class_="tick")
                )
    return join(marks)


def progression_chart(days: Sequence[analysis.DaySummary], *, surgery_date: date) -> Html:
    """Daily aerobic minutes (walking, biking, running stacked) against the plan's target band."""
    if not days:
        return el(
            "p",
            "No analysed days yet: the chart appears after the first day of data.",
            class_="empty",
        )
    # 10 min floor keeps an empty axis readable; 10 % headroom above the tallest bar or band.
    top = 1.1 * max(
        [float(d.aerobic_minutes) for d in days]
        + [d.targets.aerobic_min_high for d in days]
        + [10.0]
    )
    step = slot_width(len(days))
    band, bars = [], []
    for i, d in enumerate(days):
        x = PAD_L + i * step
        y_hi = scale(d.targets.aerobic_min_high, top)
        y_lo = scale(d.targets.aerobic_min_low, top)
        band.append(rect(x=x, y=y_hi, width=step, height=max(y_lo - y_hi, 1), cls="band"))
        base = 0
        for kind in _KINDS:
            n = _by_kind(d, kind)
            if n:
                bars.append(
                    column(x=x, slot=step, low=base, high=base + n, top=top, cls=f"bar {kind}")
                )
                base += n
    first, last = days[0].date, days[-1].date
    label = f"Daily aerobic minutes from {first} to {last} against the plan's target band"
    rows = [
        (
            d.date.isoformat(),
            (d.date - surgery_date).days // 7 + 1,
            _by_kind(d, "walking"),
            _by_kind(d, "biking"),
            _by_kind(d, "running"),
            d.aerobic_minutes,
            f"{fmt(d.targets.aerobic_min_low)}–{fmt(d.targets.aerobic_min_high)}",
            d.status.replace("_", " "),
        )
        for d in days
    ]
    return el(
        "figure",
        svg(label, y_axis(top, ""), join(band), _week_labels(days, surgery_date, step), join(bars)),
        el(
            "figcaption",
            legend([(k, k) for k in (*_KINDS, "band")]),
            "Target band: the plan's daily aerobic minutes for the week since surgery.",
        ),
        chart_table(
            "Daily aerobic minutes",
            (
                "date",
                "week",
                "walking min",
                "biking min",
                "running min",
                "total min",
                "target min",
                "status",
            ),
            rows,
        ),
        class_="chart-figure",
        id="progression",
    )


def steps_chart(days: Sequence[analysis.DaySummary], *, surgery_date: date) -> Html:
    """Daily steps as bars."""
    if not days:
        return el("p", "No steps recorded yet.", class_="empty")
    # 1,000 steps floor and 10 % headroom (tunable defaults).
    top = 1.1 * max([d.steps for d in days] + [1000])
    step = slot_width(len(days))
    bars = [
        column(
            x=PAD_L + i * step,
            slot=step,
            low=0,
            high=d.steps,
            top=top,
            cls="bar steps",
        )
        for i, d in enumerate(days)
    ]
    rows = [(d.date.isoformat(), d.steps, d.wear_minutes) for d in days]
    return el(
        "figure",
        svg("Daily steps", y_axis(top, ""), _week_labels(days, surgery_date, step), join(bars)),
        chart_table("Daily steps", ("date", "steps", "wear min"), rows),
        class_="chart-figure",
    )


def hr_chart(days: Sequence[analysis.DaySummary], *, surgery_date: date) -> Html:
    """Resting, mean and maximum heart rate per day, with minutes above the limit."""
    if not days:
        return el("p", "No heart rate recorded yet.", class_="empty")
    top = 200.0  # beats/min: above any limit the plan sets (Tanaka 2001 HRmax for adults < 200)
    step = slot_width(len(days))
    xs = [PAD_L + (i + 0.5) * step for i in range(len(days))]
    # Per day: resting, mean, maximum and the limit (the lines, in this order).
    values = [
        (
            d.heart_rate.resting_bpm,
            d.heart_rate.mean_bpm,
            d.heart_rate.max_bpm,
            d.heart_rate.limit_bpm,
        )
        for d in days
    ]
    lines = [
        polyline([(x, v[i]) for x, v in zip(xs, values, strict=True)], top, cls)
        for i, cls in enumerate(("resting", "mean", "max", "limit"))
    ]
    rows = [
        (d.date.isoformat(), *v, d.heart_rate.minutes_above_limit)
        for d, v in zip(days, values, strict=True)
    ]
    return el(
        "figure",
        svg(
            "Heart rate per day: resting, mean, maximum and the limit",
            y_axis(top, ""),
            _week_labels(days, surgery_date, step),
            join(lines),
        ),
        el(
            "figcaption",
            legend([(k, k) for k in ("resting", "mean", "max", "limit")]),
            "Beats per minute.",
        ),
        chart_table(
            "Heart rate per day",
            ("date", "resting bpm", "mean bpm", "max bpm", "limit bpm", "min above limit"),
            rows,
        ),
        class_="chart-figure",
    )
