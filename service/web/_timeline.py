"""One day's sessions on a 24-hour axis, with the per-minute heart rate drawn over them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

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
    hline,
    legend,
    polyline,
    rect,
    svg,
    y_axis,
)

__all__ = ["session_timeline"]

# Per-minute means: more than one minute between two of them is a gap (tunable default).
_GAP_S = 90


def session_timeline(
    point: analysis.DaySummary, *, hr: Sequence[tuple[datetime, float]], zone: ZoneInfo
) -> Html:
    """One day's sessions on a 24-hour axis with the per-minute heart rate over them."""
    start_s, n_min = point.day_start_s, point.n_minutes
    span = W - PAD_L - PAD_R

    def x_of(t_s: float) -> float:
        return PAD_L + (t_s - start_s) / 60 / n_min * span

    sessions = point.sessions
    blocks = [
        rect(
            x=x_of(x.start_s),
            y=PAD_T,
            width=max(x_of(x.end_s) - x_of(x.start_s), 2),
            height=H - PAD_T - PAD_B,
            cls=f"session {x.kind}",
        )
        for x in sessions
    ]
    top = 200.0  # beats/min, as in hr_chart
    # A minute without heart rate breaks the line: no line is drawn across a gap in the data.
    points: list[tuple[float, float | None]] = []
    previous: datetime | None = None
    for t, v in hr:
        if previous is not None and (t - previous).total_seconds() > _GAP_S:
            points.append((x_of(t.timestamp()), None))
        points.append((x_of(t.timestamp()), v))
        previous = t
    line = polyline(points, top, "mean")
    # Hour ticks from the local clock, so that 23- and 25-hour days are drawn right.
    midnight = datetime.combine(point.date, time(0), tzinfo=zone)
    hours = [
        el(
            "text",
            f"{h:02d}:00",
            x=f"{x_of(midnight.replace(hour=h).timestamp()):.1f}",
            y=H - 8,
            class_="tick",
        )
        for h in range(0, 24, 3)
    ]
    limit = point.heart_rate.limit_bpm
    limit_line = hline(limit, top, "line limit") if limit else None
    rows = [
        (
            datetime.fromtimestamp(x.start_s, tz=zone).strftime("%H:%M"),
            x.kind,
            x.duration_min,
            x.active_minutes,
            x.steps,
            x.hr_mean_bpm,
            x.hr_max_bpm,
            x.minutes_above_limit,
        )
        for x in sessions
    ]
    label = f"Sessions of {point.date} ({len(sessions)}) with heart rate, local time {zone.key}"
    return el(
        "figure",
        svg(
            label,
            y_axis(top, ""),
            el("text", "bpm", x=PAD_L + 4, y=PAD_T + 12, class_="tick axis-unit"),
            join(blocks),
            line,
            limit_line or Html(""),
            join(hours),
        ),
        el(
            "figcaption",
            legend(
                [
                    ("session-key", "session"),
                    ("mean", "heart rate, bpm"),
                    ("limit", f"limit {float(limit):g} bpm" if limit else "no heart-rate limit"),
                ],
                hidden=False,
            ),
            f"{len(sessions)} session(s); shaded blocks are sessions, the line is heart rate per"
            f" minute (broken where the band sent none); hours in {zone.key}.",
        ),
        chart_table(
            f"Sessions of {point.date}",
            (
                "start",
                "kind",
                "duration min",
                "active min",
                "steps",
                "mean bpm",
                "max bpm",
                "min above limit",
            ),
            rows,
        ),
        class_="chart-figure",
    )
