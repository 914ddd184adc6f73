"""The weekly clinic report: the week since surgery as one PDF page for a clinic visit.

:func:`load_week` reads the patient, the plan and clearances in force, the week's days (typed
summaries and check-ins, :func:`service.summaries.day_records`) and its alerts with who handled
them; :func:`render_pdf` draws them with reportlab (pure Python, no system libraries).
"""

from service.report._data import ReportAlert, WeekReport, load_week, report_week
from service.report._pdf import render_pdf

__all__ = ["ReportAlert", "WeekReport", "load_week", "render_pdf", "report_week"]
