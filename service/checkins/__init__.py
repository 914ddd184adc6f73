"""Patient check-ins: pain, stretching, strength, self-logged activities, red-flag symptoms.

The days route calls :func:`checkins_for_days` to show check-ins in each daily summary; the worker
may call :func:`self_logged_minutes` for activity the band cannot see.
"""

from service.checkins._model import RED_FLAGS, ActivityIn, CheckinIn, RedFlag
from service.checkins._store import (
    CheckinResult,
    checkins_for_days,
    record_checkin,
    self_logged_minutes,
)

__all__ = [
    "RED_FLAGS",
    "ActivityIn",
    "CheckinIn",
    "CheckinResult",
    "RedFlag",
    "checkins_for_days",
    "record_checkin",
    "self_logged_minutes",
]
