"""Charts as inline SVG drawn on the server, each paired with a table of the same numbers.

The SVGs are decorative for assistive technology (``aria-hidden``) except for a short summary
label; the figures themselves are always in an HTML table next to the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from service.web._data import DayPoint
from service.web._html import Html, el, join

__all__ = [
    "hr_chart",
    "progression_chart",
    "session_timeline",
    "sparkline",
    "steps_chart",
]

# Drawing area in SVG user units (tunable defaults; the SVG scales to its container).
_W, _H = 720, 220
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 40, 10, 10, 28
_KINDS = ("walking", "biking", "running")


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = round(value)
    return f"{value}{unit}"


def _svg(label: str, *children: Html, width: int = _W, height: int = _H) -> Html:
    return el(
        "svg",
        el("title", label),
        *children,
        viewBox=f"0 0 {width} {height}",
        role="img",
        aria_label=label,
        class_="chart",
        preserveAspectRatio="none" if height < 60 else None,
    )


def _scale(value: float, top: float) -> float:
    """Y coordinate of ``value`` on an axis from 0 to ``top``."""
    span = _H - _PAD_T - _PAD_B
    return _H - _PAD_B - (value / top if top else 0.0) * span


def _y_axis(top: float, unit: str) -> Html:
    ticks = [top * i / 4 for i in range(5)]
    return join(
        el(
            "g",
            el(
                "line",
                x1=_PAD_L,
                x2=_W - _PAD_R,
                y1=f"{_scale(t, top):.1f}",
                y2=f"{_scale(t, top):.1f}",
                class_="grid",
            ),
            el(
                "text",
                f"{t:.0f}{unit}",
                x=_PAD_L - 4,
                y=f"{_scale(t, top) + 4:.1f}",
                class_="tick end",
            ),
        )
        for t in ticks
    )


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> Html:
    return el(
        "details",
        el("summary", f"{caption} as a table"),
        el(
            "div",
            el(
                "table",
                el("caption", caption),
                el("thead", el("tr", [el("th", h, scope="col") for h in head])),
                el("tbody", [el("tr", [el("td", _fmt(c)) for c in r]) for r in rows]),
            ),
            class_="table-wrap",
        ),
        class_="chart-table",
    )


def sparkline(values: Sequence[int | None], *, target_min: float | None) -> Html:
    """A small bar sparkline of daily aerobic minutes (``None``: no summary that day)."""
    width, height = 140, 32
    top = max([v or 0 for v in values] + [target_min or 0, 1])
    step = width / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        if v is None:
            bars.append(
                el(
                    "rect",
                    x=f"{i * step:.1f}",
                    y=height - 1,
                    width=f"{step - 1:.1f}",
                    height=1,
                    class_="spark-none",
                )
            )
            continue
        h = max(v / top * height, 1)
        below = target_min is not None and v < target_min
        bars.append(
            el(
                "rect",
                x=f"{i * step:.1f}",
                y=f"{height - h:.1f}",
                width=f"{step - 1:.1f}",
                height=f"{h:.1f}",
                class_="spark-below" if below else "spark-ok",
            )
        )
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


def _week_labels(days: Sequence[DayPoint], surgery_date: date, step: float) -> Html:
    marks = []
    for i, d in enumerate(days):
        since = (d.day - surgery_date).days
        if since % 7 == 0:
            x = _PAD_L + i * step
            marks.append(
                el("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=_PAD_T, y2=_H - _PAD_B, class_="week")
            )
            # A label needs about 30 units: none is drawn across the right edge.
            if x < _W - _PAD_R - 30:
                marks.append(
                    el("text", f"wk {since // 7 + 1}", x=f"{x + 2:.1f}", y=_H - 8, class_="tick")
                )
    return join(marks)


def progression_chart(days: Sequence[DayPoint], *, surgery_date: date) -> Html:
    """Daily aerobic minutes (walking, biking, running stacked) against the plan's target band."""
    if not days:
        return el(
            "p",
            "No analysed days yet: the chart appears after the first day of data.",
            class_="empty",
        )
    # 10 min floor keeps an empty axis readable; 10 % headroom above the tallest bar or band.
    top = 1.1 * max(
        [float(d.aerobic_min) for d in days]
        + [float(d.targets.get("aerobic_min_high") or 0) for d in days]
        + [10.0]
    )
    step = (_W - _PAD_L - _PAD_R) / len(days)
    band, bars = [], []
    for i, d in enumerate(days):
        x = _PAD_L + i * step
        low, high = d.targets.get("aerobic_min_low"), d.targets.get("aerobic_min_high")
        if low is not None and high is not None:
            y_hi, y_lo = _scale(float(high), top), _scale(float(low), top)
            band.append(
                el(
                    "rect",
                    x=f"{x:.1f}",
                    y=f"{y_hi:.1f}",
                    width=f"{step:.1f}",
                    height=f"{max(y_lo - y_hi, 1):.1f}",
                    class_="band",
                )
            )
        base = 0
        for kind in _KINDS:
            n = d.by_kind(kind)
            if not n:
                continue
            y0, y1 = _scale(base, top), _scale(base + n, top)
            bars.append(
                el(
                    "rect",
                    x=f"{x + step * 0.15:.1f}",
                    y=f"{y1:.1f}",
                    width=f"{step * 0.7:.1f}",
                    height=f"{y0 - y1:.1f}",
                    class_=f"bar {kind}",
                )
            )
            base += n
    first, last = days[0].day, days[-1].day
    label = f"Daily aerobic minutes from {first} to {last} against the plan's target band"
    legend = el(
        "ul",
        [
            el("li", el("span", class_=f"key {k}", aria_hidden="true"), k)
            for k in ("walking", "biking", "running", "band")
        ],
        class_="legend",
        aria_hidden="true",
    )
    rows = [
        (
            d.day.isoformat(),
            (d.day - surgery_date).days // 7 + 1,
            d.by_kind("walking"),
            d.by_kind("biking"),
            d.by_kind("running"),
            d.aerobic_min,
            f"{_fmt(d.targets.get('aerobic_min_low'))}–{_fmt(d.targets.get('aerobic_min_high'))}",
            d.status.replace("_", " "),
        )
        for d in days
    ]
    return el(
        "figure",
        _svg(
            label, _y_axis(top, ""), join(band), _week_labels(days, surgery_date, step), join(bars)
        ),
        el(
            "figcaption",
            legend,
            "Target band: the plan's daily aerobic minutes for the week since surgery.",
        ),
        _table(
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


def steps_chart(days: Sequence[DayPoint], *, surgery_date: date) -> Html:
    """Daily steps as bars."""
    if not days:
        return el("p", "No steps recorded yet.", class_="empty")
    # 1,000 steps floor and 10 % headroom (tunable defaults).
    top = 1.1 * max([int(d.summary.get("steps") or 0) for d in days] + [1000])
    step = (_W - _PAD_L - _PAD_R) / len(days)
    bars = [
        el(
            "rect",
            x=f"{_PAD_L + i * step + step * 0.15:.1f}",
            y=f"{_scale(int(d.summary.get('steps') or 0), top):.1f}",
            width=f"{step * 0.7:.1f}",
            height=f"{_H - _PAD_B - _scale(int(d.summary.get('steps') or 0), top):.1f}",
            class_="bar steps",
        )
        for i, d in enumerate(days)
    ]
    rows = [
        (
            d.day.isoformat(),
            int(d.summary.get("steps") or 0),
            int(d.summary.get("wear_minutes") or 0),
        )
        for d in days
    ]
    return el(
        "figure",
        _svg("Daily steps", _y_axis(top, ""), _week_labels(days, surgery_date, step), join(bars)),
        _table("Daily steps", ("date", "steps", "wear min"), rows),
        class_="chart-figure",
    )


def _polyline(points: Sequence[tuple[float, float | None]], top: float, cls: str) -> Html:
    segments: list[list[str]] = [[]]
    for x, v in points:
        if v is None:
            segments.append([])
        else:
            segments[-1].append(f"{x:.1f},{_scale(v, top):.1f}")
    return join(el("polyline", points=" ".join(s), class_=f"line {cls}") for s in segments if s)


def hr_chart(days: Sequence[DayPoint], *, surgery_date: date) -> Html:
    """Resting, mean and maximum heart rate per day, with minutes above the limit."""
    if not days:
        return el("p", "No heart rate recorded yet.", class_="empty")
    top = 200.0  # beats/min: above any limit the plan sets (Tanaka 2001 HRmax for adults < 200)
    step = (_W - _PAD_L - _PAD_R) / len(days)
    xs = [_PAD_L + (i + 0.5) * step for i in range(len(days))]
    lines = [
        _polyline([(x, d.heart_rate.get(key)) for x, d in zip(xs, days, strict=True)], top, cls)
        for key, cls in (
            ("resting_bpm", "resting"),
            ("mean_bpm", "mean"),
            ("max_bpm", "max"),
            ("limit_bpm", "limit"),
        )
    ]
    rows = [
        (
            d.day.isoformat(),
            d.heart_rate.get("resting_bpm"),
            d.heart_rate.get("mean_bpm"),
            d.heart_rate.get("max_bpm"),
            d.heart_rate.get("limit_bpm"),
            d.heart_rate.get("minutes_above_limit"),
        )
        for d in days
    ]
    legend = el(
        "ul",
        [
            el("li", el("span", class_=f"key {k}", aria_hidden="true"), k)
            for k in ("resting", "mean", "max", "limit")
        ],
        class_="legend",
        aria_hidden="true",
    )
    return el(
        "figure",
        _svg(
            "Heart rate per day: resting, mean, maximum and the limit",
            _y_axis(top, ""),
            _week_labels(days, surgery_date, step),
            join(lines),
        ),
        el("figcaption", legend, "Beats per minute."),
        _table(
            "Heart rate per day",
            ("date", "resting bpm", "mean bpm", "max bpm", "limit bpm", "min above limit"),
            rows,
        ),
        class_="chart-figure",
    )


def session_timeline(
    point: DayPoint, *, hr: Sequence[tuple[datetime, float]], zone: ZoneInfo
) -> Html:
    """One day's sessions on a 24-hour axis with the per-minute heart rate over them."""
    s = point.summary
    start_s = int(s.get("day_start_s") or 0)
    n_min = int(s.get("n_minutes") or 1440)
    span = _W - _PAD_L - _PAD_R

    def x_of(t_s: float) -> float:
        return _PAD_L + (t_s - start_s) / 60 / n_min * span

    sessions = list(s.get("sessions") or [])
    blocks = [
        el(
            "rect",
            x=f"{x_of(x['start_s']):.1f}",
            y=_PAD_T,
            width=f"{max(x_of(x['end_s']) - x_of(x['start_s']), 2):.1f}",
            height=_H - _PAD_T - _PAD_B,
            class_=f"session {x.get('kind', 'walking')}",
        )
        for x in sessions
    ]
    top = 200.0  # beats/min, as in hr_chart
    line = _polyline([(x_of(t.timestamp()), v) for t, v in hr], top, "mean")
    # Hour ticks from the local clock, so that 23- and 25-hour days are drawn right.
    midnight = datetime.combine(point.day, time(0), tzinfo=zone)
    hours = [
        el(
            "text",
            f"{h:02d}:00",
            x=f"{x_of(midnight.replace(hour=h).timestamp()):.1f}",
            y=_H - 8,
            class_="tick",
        )
        for h in range(0, 24, 3)
    ]
    limit = point.heart_rate.get("limit_bpm")
    limit_line = (
        el(
            "line",
            x1=_PAD_L,
            x2=_W - _PAD_R,
            y1=f"{_scale(float(limit), top):.1f}",
            y2=f"{_scale(float(limit), top):.1f}",
            class_="line limit",
        )
        if limit
        else None
    )
    rows = [
        (
            datetime.fromtimestamp(x["start_s"], tz=zone).strftime("%H:%M"),
            x.get("kind"),
            x.get("duration_min"),
            x.get("active_minutes"),
            x.get("steps"),
            x.get("hr_mean_bpm"),
            x.get("hr_max_bpm"),
            x.get("minutes_above_limit"),
        )
        for x in sessions
    ]
    label = f"Sessions of {point.day} ({len(sessions)}) with heart rate, local time {zone.key}"
    return el(
        "figure",
        _svg(label, _y_axis(top, ""), join(blocks), line, limit_line or Html(""), join(hours)),
        el(
            "figcaption",
            f"{len(sessions)} session(s); shaded blocks are sessions, the line is heart rate per minute; hours in {zone.key}.",
        ),
        _table(
            f"Sessions of {point.day}",
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
