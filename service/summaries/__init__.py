"""Daily summaries: the owner of the ``daily_summaries`` table.

One typed shape, :class:`analysis.DaySummary`; one serialiser, :func:`summary_document` (what
is stored and served); one parser, :func:`analysis.summary_from_dict`. Every read and write of
the table's documents goes through here: the worker stores a day (:func:`store_summary`) and
reads its history (:func:`load_summaries`), the days, sessions and progress routes read theirs
(:func:`served_days`, :func:`sessions_json`, :func:`load_summaries`), the pages read documents
(:func:`summary_documents`, and the care team's list :func:`summary_briefs`). ``GET /days`` is described in the OpenAPI by :data:`ServedDay`: a
stored summary with the day's check-ins, or a placeholder ``{date, status, checkins}``.
"""

from service.summaries._document import (
    DayPlaceholderOut,
    ServedDay,
    StoredDayOut,
    UnsummarisedStatus,
    summary_document,
)
from service.summaries._store import (
    load_summaries,
    served_days,
    sessions_json,
    store_summary,
    summary_briefs,
    summary_documents,
)

__all__ = [
    "DayPlaceholderOut",
    "ServedDay",
    "StoredDayOut",
    "UnsummarisedStatus",
    "load_summaries",
    "served_days",
    "sessions_json",
    "store_summary",
    "summary_briefs",
    "summary_document",
    "summary_documents",
]
