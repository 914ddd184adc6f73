"""Daily summaries: the owner of the ``daily_summaries`` table.

One typed shape, :class:`analysis.DaySummary`; one serialiser, :func:`summary_document` (what
is stored and served); one decoder, :func:`summary_from_document` (documents of the previous
analysis version too). Every read and write of the table's documents goes through here: the
worker stores a day (:func:`store_summary`) and reads its history (:func:`load_summaries`); the
days, sessions and progress routes read theirs (:func:`served_days`, :func:`sessions_json`,
:func:`load_summaries`); the pages read typed summaries (:func:`stored_summaries`), the
clinic report and the CSV export typed days with their check-ins (:func:`day_records`,
:func:`served_day_record`), the care team's list and
the recovery trajectories their :class:`DayBrief` (:func:`summary_briefs`). ``GET /days`` is described in the OpenAPI by
:data:`ServedDay`: a stored summary with the day's check-ins, or a placeholder
``{date, status, checkins}``.
"""

from service.summaries._document import (
    DayBrief,
    DayPlaceholderOut,
    ServedDay,
    StoredDayOut,
    UnsummarisedStatus,
    summary_document,
    summary_from_document,
)
from service.summaries._store import (
    DayRecord,
    VersionedBriefs,
    day_records,
    load_summaries,
    served_day_record,
    served_days,
    sessions_json,
    store_summary,
    stored_summaries,
    summary_briefs,
    versioned_briefs,
)

__all__ = [
    "DayBrief",
    "DayPlaceholderOut",
    "DayRecord",
    "ServedDay",
    "StoredDayOut",
    "UnsummarisedStatus",
    "VersionedBriefs",
    "day_records",
    "load_summaries",
    "served_day_record",
    "served_days",
    "sessions_json",
    "store_summary",
    "stored_summaries",
    "summary_briefs",
    "summary_document",
    "summary_from_document",
    "versioned_briefs",
]
