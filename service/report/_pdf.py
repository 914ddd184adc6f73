"""The weekly clinic report drawn as a PDF with reportlab (pure Python, its built-in fonts)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
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

import analysis
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
    "h2", parent=_STYLES["Heading2"], fontName=_BOLD, fontSize=10.5, spaceBefore=4, spaceAfter=2
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
# Tunable defaults: the most rows of each list that still let a busy week (7 days, every list
# full) fit one A4 page; the rest is counted in an "and K more" line that points to the app.
MAX_FLAG_ROWS = 6
MAX_ALERT_ROWS = 4
MAX_CHECKIN_ROWS = 4
# Tunable defaults: characters of a flag message (one line of its column), an alert's message or
# note, a check-in's note (two lines of theirs) shown in a cell; the whole text is on the
# patient's page.
_FLAG_CHARS = 80
_NOTE_CHARS = 60
# Tunable default: a day's flag codes that fit one line of the days table; more are counted.
_DAY_FLAG_CODES = 2
_SEVERITY_ORDER = {"urgent": 0, "warning": 1, "info": 2}
_IN_APP = "the full list is on the patient's page in Rehab Monitor"


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _short(text: str, limit: int = _NOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + " …"


@dataclass(frozen=True)
class _Fit:
    """How much of the lists a rendering shows: everything (``rows`` ``None``), or at most
    ``rows`` flags, alerts and check-ins with long texts cut."""

    rows: tuple[int, int, int] | None = None

    def cut(self, text: str, limit: int = _NOTE_CHARS) -> str:
        return text if self.rows is None else _short(text, limit)

    def limit(self, which: int, n: int) -> int:
        return n if self.rows is None else self.rows[which]


def _more(left_out: int, what: str) -> list[Any]:
    """The line under a shortened list: how many rows were left out, and where they are."""
    if left_out <= 0:
        return []
    return [_p(f"… and {left_out} more {what}: {_IN_APP}.", _BODY)]


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
    height = 36 * mm
    left, bottom, top = 22.0, 14.0, 8.0
    plot_w, plot_h = width - left - 6, height - bottom - top
    by_day = {d.date: d.summary for d in report.days if d.summary is not None}
    days = [report.first + timedelta(days=i) for i in range(7)]
    highs = [float(report.targets.aerobic_min_high)]
    for s in by_day.values():
        highs += [s.targets.aerobic_min_high, float(s.aerobic_minutes)]
    scale_max = max(10.0, max(highs) * 1.15)
    drawing = Drawing(width, height)

    def y(minutes: float) -> float:
        return float(bottom + plot_h * min(minutes, scale_max) / scale_max)

    slot = plot_w / 7
    for i, day in enumerate(days):
        summary = by_day.get(day)
        targets = summary.targets if summary else report.targets
        low, high = targets.aerobic_min_low, targets.aerobic_min_high
        x = left + i * slot
        drawing.add(Rect(x, y(low), slot, y(high) - y(low), fillColor=_BAND, strokeColor=None))
        minutes = summary.aerobic_minutes if summary else None
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


def _day_flags(flags: Sequence[analysis.Flag], fit: _Fit) -> str:
    """A day's flags in the days table: the codes, or (condensed) how many and how severe."""
    if fit.rows is None or len(flags) <= _DAY_FLAG_CODES:
        return ", ".join(f.code for f in flags) or "–"
    urgent = sum(f.severity == "urgent" for f in flags)
    return f"{len(flags)} flags" + (f", {urgent} urgent" if urgent else "") + " (below)"


def _days(report: WeekReport, fit: _Fit) -> Table:
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
        s = d.summary
        if s is None:
            rows.append([_day_label(d.date), _STATUS.get(d.status, d.status), *["–"] * 6, _p("–")])
            continue
        t, hr = s.targets, s.heart_rate
        rows.append(
            [
                _day_label(d.date),
                _STATUS.get(d.status, d.status),
                f"{s.steps:,}",
                _num(s.wear_minutes / 60, 1),
                f"{s.aerobic_minutes} min",
                f"{t.aerobic_min_low:.0f}–{t.aerobic_min_high:.0f}",
                f"{s.longest_session_min} min" if s.sessions else "–",
                f"{_num(hr.resting_bpm)} / {_num(hr.max_bpm)}",
                _p(_day_flags(s.flags, fit)),
            ]
        )
    widths = [24, 19, 11, 12, 14, 12, 13, 21, 54]
    return _table(rows, [w * mm for w in widths])


def _flags(report: WeekReport, fit: _Fit) -> list[Any]:
    found = [(d.date, f) for d in report.days if d.summary for f in d.summary.flags]
    if not found:
        return [_p("No flags this week.", _BODY)]
    # The most severe first, then by day: a shortened list keeps what matters most.
    ranked = sorted(
        range(len(found)),
        key=lambda i: (_SEVERITY_ORDER.get(found[i][1].severity, 3), found[i][0], i),
    )
    shown = sorted(ranked[: fit.limit(0, len(found))])
    rows: list[list[Any]] = [["Day", "Flag", "Severity", "What the analysis found"]]
    for i in shown:
        day, f = found[i]
        rows.append([_day_label(day), f.code, f.severity, _p(fit.cut(f.message, _FLAG_CHARS))])
    return [
        _table(rows, [w * mm for w in (23, 45, 15, 97)]),
        *_more(len(found) - len(shown), "flags"),
    ]


def _alerts(report: WeekReport, fit: _Fit) -> list[Any]:
    if not report.alerts:
        return [_p("No alerts this week.", _BODY)]
    rows: list[list[Any]] = [["Alert", "Severity", "Days", "State", "Handled", "Note"]]
    # Still to handle first (open, then cleared but not reviewed), the most severe first.
    waiting = {"open": 0, "cleared": 1, "acknowledged": 2, "resolved": 3}
    ranked = sorted(
        range(len(report.alerts)),
        key=lambda i: (
            waiting.get(report.alerts[i].record.state, 4),
            _SEVERITY_ORDER.get(report.alerts[i].record.severity, 3),
            i,
        ),
    )
    shown = [report.alerts[i] for i in sorted(ranked[: fit.limit(1, len(ranked))])]
    for item in shown:
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
                _p(fit.cut(f"{a.rule}: {a.message}")),
                a.severity,
                _p(days),
                _p(state),
                _p("; ".join(handled) or "not yet"),
                _p(fit.cut(" / ".join(notes)) or "–"),
            ]
        )
    return [
        _table(rows, [47 * mm, 14 * mm, 20 * mm, 23 * mm, 36 * mm, 40 * mm]),
        *_more(len(report.alerts) - len(shown), "alerts"),
    ]


def _checkins(report: WeekReport, fit: _Fit) -> list[Any]:
    rows: list[list[Any]] = [
        ["Day", "Pain", "Stretching", "Strength", "Other activity", "Red flags", "Note"]
    ]
    found = [(d, c) for d in report.days for c in d.checkins]
    # Check-ins with red flags first, then the latest: a shortened list keeps what matters most.
    ranked = sorted(range(len(found)), key=lambda i: (not found[i][1].red_flags, -i))
    shown = sorted(ranked[: fit.limit(2, len(found))])
    for d, c in (found[i] for i in shown):
        activities = ", ".join(f"{a.kind} {a.minutes} min" for a in c.activities)
        rows.append(
            [
                _day_label(d.date),
                "–" if c.pain_0_10 is None else f"{c.pain_0_10}/10",
                str(c.stretching_sessions),
                "yes" if c.strength_session else "no",
                _p(activities or "–"),
                _p(", ".join(f.replace("_", " ") for f in c.red_flags) or "none"),
                _p(fit.cut(c.note)),
            ]
        )
    if len(rows) == 1:
        return [_p("No check-ins this week.", _BODY)]
    return [
        _table(rows, [w * mm for w in (21, 9, 16, 15, 22, 44, 53)]),
        *_more(len(found) - len(shown), "check-ins"),
    ]


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
    """The report as PDF bytes: one A4 page. A week that does not fit whole is condensed: the
    flags, alerts and check-ins beyond :data:`MAX_FLAG_ROWS`, :data:`MAX_ALERT_ROWS` and
    :data:`MAX_CHECKIN_ROWS` are counted in a line that points to the patient's page (the most
    severe, the ones still to handle and those with red flags are kept) and long texts are cut;
    should it still not fit, the lists are shortened a row at a time until it does."""
    pdf, pages = _build(report, _Fit())
    limits = (MAX_FLAG_ROWS, MAX_ALERT_ROWS, MAX_CHECKIN_ROWS)
    while pages > 1:
        pdf, pages = _build(report, _Fit(limits))
        if max(limits) == 1:
            break
        limits = (max(1, limits[0] - 1), max(1, limits[1] - 1), max(1, limits[2] - 1))
    return pdf


def _build(report: WeekReport, fit: _Fit) -> tuple[bytes, int]:
    """The PDF showing what ``fit`` allows, and its number of pages."""
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
        _days(report, fit) if report.days else _p("No day of this week has started yet.", _BODY),
    ]
    if report.last > shown_to and report.days:
        story.append(_p(f"Days after {shown_to.isoformat()} have not happened yet.", _BODY))
    story += [
        _p("Flags of the week", _H2),
        *_flags(report, fit),
        _p("Alerts and how they were handled", _H2),
        *_alerts(report, fit),
        _p("Check-ins (pain, stretching, strength, red flags)", _H2),
        *_checkins(report, fit),
        Spacer(1, 2 * mm),
    ]
    doc.build(story)
    return out.getvalue(), int(doc.page)
