"""Patient check-ins: pain, stretching, strength, self-logged activities, red-flag symptoms.

One shape of a stored check-in, :class:`CheckinRecord`: ``GET /checkins`` returns it, the pages
read it (:func:`checkins_for_days`), and ``GET /days`` renders the same fields in SQL
(:data:`CHECKIN_JSON_SQL`, spliced into each day by ``service.summaries``). The worker may call
:func:`self_logged_minutes` for activity the band cannot see.
"""

from service.checkins._model import (
    CHECKIN_FIELDS,
    RED_FLAGS,
    ActivityIn,
    CheckinIn,
    CheckinRecord,
    RedFlag,
)
from service.checkins._store import (
    CHECKIN_JSON_SQL,
    CheckinResult,
    checkins_for_days,
    record_checkin,
    self_logged_minutes,
)

__all__ = [
    "CHECKIN_FIELDS",
    "CHECKIN_JSON_SQL",
    "RED_FLAGS",
    "ActivityIn",
    "CheckinIn",
    "CheckinRecord",
    "CheckinResult",
    "RedFlag",
    "checkins_for_days",
    "record_checkin",
    "self_logged_minutes",
]
