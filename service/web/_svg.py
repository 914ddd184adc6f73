"""SVG primitives shared by the charts: drawing area, axes, bars, lines, legends and tables.

Every chart draws in the same area (:data:`W` × :data:`H` user units inside the padding) on a
value axis from 0 to a chart's ``top``; the helpers here place bars, horizontal lines and ticks
on it, so that each chart only says what it draws.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.web._html import Html, el, join

__all__ = [
    "PAD_B",
    "PAD_L",
    "PAD_R",
    "PAD_T",
    "H",
    "W",
    "chart_table",
    "column",
    "fmt",
    "hline",
    "legend",
    "polyline",
    "rect",
    "scale",
    "slot_width",
    "svg",
    "y_axis",
]

# Drawing area in SVG user units (tunable defaults; the SVG scales to its container).
W, H = 720, 220
PAD_L, PAD_R, PAD_T, PAD_B = 40, 10, 10, 28


def fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = round(value)
    return f"{value}{unit}"


def svg(label: str, *children: Html, width: int = W, height: int = H) -> Html:
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


def scale(value: float, top: float) -> float:
    """Y coordinate of ``value`` on an axis from 0 to ``top``."""
    span = H - PAD_T - PAD_B
    return H - PAD_B - (value / top if top else 0.0) * span


def slot_width(n: int) -> float:
    """The width of one of ``n`` equal slots (one a day) across the drawing area."""
    return (W - PAD_L - PAD_R) / n


def rect(*, x: float, y: float, width: float, height: float, cls: str) -> Html:
    """A rectangle in user units (one decimal)."""
    return el(
        "rect",
        x=f"{x:.1f}",
        y=f"{y:.1f}",
        width=f"{width:.1f}",
        height=f"{height:.1f}",
        class_=cls,
    )


def column(*, x: float, slot: float, low: float, high: float, top: float, cls: str) -> Html:
    """A bar from ``low`` to ``high`` on the value axis, in the middle 70 % of a slot at ``x``."""
    y_low, y_high = scale(low, top), scale(high, top)
    return rect(x=x + slot * 0.15, y=y_high, width=slot * 0.7, height=y_low - y_high, cls=cls)


def hline(value: float, top: float, cls: str) -> Html:
    """A line across the drawing area at ``value`` on the value axis."""
    y = f"{scale(value, top):.1f}"
    return el("line", x1=PAD_L, x2=W - PAD_R, y1=y, y2=y, class_=cls)


def legend(items: Sequence[tuple[str, str]], *, hidden: bool = True) -> Html:
    """A chart's key: ``(class, label)`` pairs; ``hidden`` when the table says it all already."""
    return el(
        "ul",
        [
            el("li", el("span", class_=f"key {cls}", aria_hidden="true"), label)
            for cls, label in items
        ],
        class_="legend",
        aria_hidden="true" if hidden else None,
    )


def y_axis(top: float, unit: str) -> Html:
    ticks = [top * i / 4 for i in range(5)]
    return join(
        el(
            "g",
            hline(t, top, "grid"),
            el(
                "text",
                f"{t:.0f}{unit}",
                x=PAD_L - 4,
                y=f"{scale(t, top) + 4:.1f}",
                class_="tick end",
            ),
        )
        for t in ticks
    )


def chart_table(caption: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> Html:
    return el(
        "details",
        el("summary", f"{caption} as a table"),
        el(
            "div",
            el(
                "table",
                el("caption", caption),
                el("thead", el("tr", [el("th", h, scope="col") for h in head])),
                el("tbody", [el("tr", [el("td", fmt(c)) for c in r]) for r in rows]),
            ),
            class_="table-wrap",
        ),
        class_="chart-table",
    )


def polyline(points: Sequence[tuple[float, float | None]], top: float, cls: str) -> Html:
    segments: list[list[str]] = [[]]
    for x, v in points:
        if v is None:
            segments.append([])
        else:
            segments[-1].append(f"{x:.1f},{scale(v, top):.1f}")
    return join(el("polyline", points=" ".join(s), class_=f"line {cls}") for s in segments if s)
