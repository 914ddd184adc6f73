"""The weekly clinic report drawn as a PDF with reportlab (pure Python, its built-in fonts)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from service.report._data import WeekReport

__all__ = ["render_pdf"]

# Names beyond Latin-1 (Ł, Ő, Greek, Cyrillic) need a TrueType font: DejaVu Sans where the system
# has it (Debian's fonts-dejavu-core), else reportlab's built-in Helvetica (Latin-1 only).
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _fonts() -> tuple[str, str]:
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        return "Helvetica", "Helvetica-Bold"
    try:
        pdfmetrics.registerFont(TTFont("ReportSans", str(regular)))
        pdfmetrics.registerFont(TTFont("ReportSans-Bold", str(bold)))
    except (OSError, TTFError):  # an unreadable font file: the built-in font
        return "Helvetica", "Helvetica-Bold"
    return "ReportSans", "ReportSans-Bold"


_FONT, _BOLD = _fonts()
# DejaVu Sans runs wider than Helvetica: its table text is set a little smaller.
_SIZE = 7.0 if _FONT == "Helvetica" else 6.4

_STYLES = getSampleStyleSheet()
_TITLE = ParagraphStyle(
    "title", parent=_STYLES["Title"], fontName=_BOLD, fontSize=15, spaceAfter=2, leading=18
)
_H2 = ParagraphStyle(
    "h2", parent=_STYLES["Heading2"], fontName=_BOLD, fontSize=10.5, spaceBefore=6, spaceAfter=2
)
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontName=_FONT, fontSize=8, leading=10)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=_SIZE, leading=_SIZE + 1.5)
_GRID = colors.HexColor("#c8ced6")
_HEAD = colors.HexColor("#e9edf2")
_BAND = colors.HexColor("#d6ecd9")
_BAR = colors.HexColor("#2f6690")
_STATUS = {
    "on_track": "on track",
    "below": "below plan",
    "above": "above plan",
    "insufficient_data": "too little wear",
    "in_progress": "in progress",
    "pre_operative": "before surgery",
    "pending": "not judged yet",
    "not_monitored": "not monitored",
}
_WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{float(value):.{digits}f}"


def _table(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), _FONT, _SIZE),
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
            ("FONT", (0, 0), (-1, 0), _BOLD, _SIZE),
        ]
    table.setStyle(TableStyle(style))
    return table


def _day_label(day: date) -> str:
    return f"{_WEEKDAY[day.weekday()]} {day.isoformat()}"


def _chart(report: WeekReport, width: float) -> Drawing:
    """Aerobic minutes per day as bars over the plan's daily range (green band)."""
    height = 42 * mm
    left, bottom, top = 22.0, 14.0, 8.0
    plot_w, plot_h = width - left - 6, height - bottom - top
    by_day = {d["date"]: d for d in report.days}
    days = [report.first + timedelta(days=i) for i in range(7)]
    highs = [float(report.targets.aerobic_min_high)]
    for d in report.days:
        if d.get("targets"):
            highs.append(float(d["targets"]["aerobic_min_high"]))
        highs.append(float(d.get("aerobic_minutes") or 0))
    scale_max = max(10.0, max(highs) * 1.15)
    drawing = Drawing(width, height)

    def y(minutes: float) -> float:
        return float(bottom + plot_h * min(minutes, scale_max) / scale_max)

    slot = plot_w / 7
    for i, day in enumerate(days):
        doc = by_day.get(day.isoformat(), {})
        targets = doc.get("targets") or {}
        low = float(targets.get("aerobic_min_low", report.targets.aerobic_min_low))
        high = float(targets.get("aerobic_min_high", report.targets.aerobic_min_high))
        x = left + i * slot
        drawing.add(Rect(x, y(low), slot, y(high) - y(low), fillColor=_BAND, strokeColor=None))
        minutes = doc.get("aerobic_minutes")
        if minutes is not None:
            bar_h = y(float(minutes)) - bottom
            drawing.add(
                Rect(x + slot * 0.25, bottom, slot * 0.5, bar_h, fillColor=_BAR, strokeColor=None)
            )
            drawing.add(
                String(
                    x + slot / 2,
                    bottom + bar_h + 2,
                    str(minutes),
                    fontName=_FONT,
                    fontSize=7,
                    textAnchor="middle",
                )
            )
        label = f"{_WEEKDAY[day.weekday()]} {day.day:02d}.{day.month:02d}"
        drawing.add(String(x + slot / 2, 3, label, fontName=_FONT, fontSize=7, textAnchor="middle"))
    drawing.add(
        Line(left, bottom, left + plot_w, bottom, strokeColor=colors.black, strokeWidth=0.5)
    )
    drawing.add(
        Line(left, bottom, left, bottom + plot_h, strokeColor=colors.black, strokeWidth=0.5)
    )
    step = 10 if scale_max <= 80 else 20
    for tick in range(0, int(scale_max) + 1, step):
        drawing.add(
            String(
                left - 3,
                y(tick) - 2.5,
                str(tick),
                fontName=_FONT,
                fontSize=6.5,
                textAnchor="end",
            )
        )
        drawing.add(Line(left - 2, y(tick), left, y(tick), strokeWidth=0.5))
    drawing.add(String(left - 18, height - 6, "aerobic min", fontName=_FONT, fontSize=6.5))
    drawing.add(
        String(
            left + plot_w,
            height - 6,
            "bars: aerobic minutes of the day; green band: the plan's daily range",
            fontName=_FONT,
            fontSize=6.5,
            textAnchor="end",
        )
    )
    return drawing


def _plan(report: WeekReport) -> Table:
    t = report.targets
    p = report.patient
    cleared = []
    for modality in ("running", "swimming", "elliptical"):
        on = report.clearances.get(modality)
        in_force = t.cleared.get(modality, False)
        text = f"cleared from {on.isoformat()}" if on else "not cleared"
        if on and not in_force:
            text += " (not yet in force)"
        cleared.append(f"{modality}: {text}")
    limit = t.hr_limit_bpm if t.hr_limit_bpm is not None else p.hr_limit_bpm
    hr = [
        f"limit {limit:.0f} bpm" if limit is not None else "limit from the plan phase",
        f"resting {p.resting_hr_bpm:.0f} bpm (set)" if p.resting_hr_bpm else "resting estimated",
    ]
    if p.beta_blocker:
        hr.append("beta-blocker: heart-rate rules off")
    rows = [
        [
            _p("Plan"),
            _p(
                f"{t.ramp} ramp, week {t.week}, {t.phase}; {t.aerobic_min_low:.0f}–"
                f"{t.aerobic_min_high:.0f} aerobic min/day, sessions ≤ {t.max_session_min:.0f} min"
                f" ({t.plan_version}, in force on {report.plan_day.isoformat()})"
            ),
        ],
        [
            _p("Override"),
            _p(
                f"from {t.override_from.isoformat()}: {report.override_note or 'no note'}"
                if t.override_from
                else "none: the plan's defaults"
            ),
        ],
        [_p("Clearances"), _p("; ".join(cleared))],
        [_p("Heart rate"), _p("; ".join(hr))],
    ]
    return _table(rows, [22 * mm, 158 * mm], header=False)


def _days(report: WeekReport) -> Table:
    rows: list[list[Any]] = [
        [
            "Day",
            "Status",
            "Steps",
            "Wear h",
            "Aerobic",
            "Range",
            "Longest",
            "Rest / max HR",
            "Flags",
        ]
    ]
    for d in report.days:
        day = date.fromisoformat(d["date"])
        t = d.get("targets") or {}
        hr = d.get("heart_rate") or {}
        sessions = d.get("sessions") or []
        stored = "steps" in d
        rows.append(
            [
                _day_label(day),
                _STATUS.get(d["status"], d["status"]),
                f"{d['steps']:,}" if stored else "–",
                _num(d["wear_minutes"] / 60, 1) if stored else "–",
                f"{d['aerobic_minutes']} min" if stored else "–",
                f"{t['aerobic_min_low']:.0f}–{t['aerobic_min_high']:.0f}" if t else "–",
                f"{max(int(s['duration_min']) for s in sessions)} min" if sessions else "–",
                f"{_num(hr.get('resting_bpm'))} / {_num(hr.get('max_bpm'))}" if stored else "–",
                _p(", ".join(f["code"] for f in d.get("flags") or ()) or "–"),
            ]
        )
    widths = [24, 19, 11, 12, 14, 12, 13, 21, 54]
    return _table(rows, [w * mm for w in widths])


def _flags(report: WeekReport) -> list[Any]:
    rows: list[list[Any]] = [["Day", "Flag", "Severity", "What the analysis found"]]
    for d in report.days:
        for f in d.get("flags") or ():
            rows.append(
                [
                    _day_label(date.fromisoformat(d["date"])),
                    f["code"],
                    f["severity"],
                    _p(f["message"]),
                ]
            )
    if len(rows) == 1:
        return [_p("No flags this week.", _BODY)]
    return [_table(rows, [24 * mm, 42 * mm, 15 * mm, 99 * mm])]


def _alerts(report: WeekReport) -> list[Any]:
    if not report.alerts:
        return [_p("No alerts this week.", _BODY)]
    rows: list[list[Any]] = [["Alert", "Severity", "Days", "State", "Handled", "Note"]]
    for item in report.alerts:
        a = item.record
        state: str = "cleared, not reviewed" if a.state == "cleared" else a.state
        if a.overdue:
            state += " (overdue)"
        handled = []
        if a.acknowledged_at:
            handled.append(
                f"acknowledged {a.acknowledged_at:%Y-%m-%d %H:%M} UTC by {item.acknowledged_by or '?'}"
            )
        if a.resolved_at:
            handled.append(
                f"resolved {a.resolved_at:%Y-%m-%d %H:%M} UTC"
                + (f" by {item.resolved_by}" if item.resolved_by else " (condition cleared)")
            )
        notes = [n for n in (a.ack_note, a.resolve_note) if n]
        days = a.first_day.isoformat() + (
            f" – {a.last_day.isoformat()}" if a.last_day != a.first_day else ""
        )
        rows.append(
            [
                _p(f"{a.rule}: {a.message}"),
                a.severity,
                _p(days),
                _p(state),
                _p("; ".join(handled) or "not yet"),
                _p(" / ".join(notes) or "–"),
            ]
        )
    return [_table(rows, [47 * mm, 14 * mm, 20 * mm, 23 * mm, 36 * mm, 40 * mm])]


def _checkins(report: WeekReport) -> list[Any]:
    rows: list[list[Any]] = [
        ["Day", "Pain", "Stretching", "Strength", "Other activity", "Red flags", "Note"]
    ]
    for d in report.days:
        for c in d.get("checkins") or ():
            activities = ", ".join(
                f"{a['kind']} {a['minutes']} min" for a in c.get("activities") or ()
            )
            rows.append(
                [
                    _day_label(date.fromisoformat(d["date"])),
                    "–" if c.get("pain_0_10") is None else f"{c['pain_0_10']}/10",
                    "–" if c.get("stretching_sessions") is None else str(c["stretching_sessions"]),
                    {True: "yes", False: "no"}.get(c.get("strength_session"), "–"),
                    _p(activities or "–"),
                    _p(", ".join(f.replace("_", " ") for f in c.get("red_flags") or ()) or "none"),
                    _p(c.get("note") or ""),
                ]
            )
    if len(rows) == 1:
        return [_p("No check-ins this week.", _BODY)]
    return [_table(rows, [24 * mm, 10 * mm, 16 * mm, 15 * mm, 29 * mm, 33 * mm, 53 * mm])]


def _header(report: WeekReport) -> list[Any]:
    p = report.patient
    week = f"week {report.week} since surgery" if report.week >= 1 else "before surgery"
    ident = f"record {p.record_number}, " if p.record_number else ""
    return [
        _p(f"Weekly clinic report: {p.display_name}", _TITLE),
        _p(
            f"{ident}born {p.birth_year}; {p.surgery_type} ({p.approach.replace('_', ' ')}) on"
            f" {p.surgery_date.isoformat()}. {week.capitalize()}: {_day_label(report.first)} to"
            f" {_day_label(report.last)} ({p.tz}). Generated"
            f" {report.generated_at:%Y-%m-%d %H:%M} UTC by Rehab Monitor.",
            _BODY,
        ),
    ]


def render_pdf(report: WeekReport) -> bytes:
    """The report as PDF bytes (A4; one page where the week's alerts and check-ins fit)."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Weekly clinic report: {report.patient.display_name}, {report.first.isoformat()}",
        author="Rehab Monitor",
    )
    shown_to = min(report.last, report.today)
    story: list[Any] = [
        *_header(report),
        _p("Plan and clearances in force", _H2),
        _plan(report),
        _p("Aerobic minutes against the plan's daily range", _H2),
        _chart(report, doc.width),
        _p("Days", _H2),
        _days(report) if report.days else _p("No day of this week has started yet.", _BODY),
    ]
    if report.last > shown_to and report.days:
        story.append(_p(f"Days after {shown_to.isoformat()} have not happened yet.", _BODY))
    story += [
        _p("Flags of the week", _H2),
        *_flags(report),
        _p("Alerts and how they were handled", _H2),
        *_alerts(report),
        _p("Check-ins (pain, stretching, strength, red flags)", _H2),
        *_checkins(report),
        Spacer(1, 2 * mm),
    ]
    doc.build(story)
    return out.getvalue()
