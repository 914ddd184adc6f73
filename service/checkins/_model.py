"""What a patient reports: the check-in model and the rules it raises alerts by."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHECKIN_FIELDS",
    "RED_FLAGS",
    "ActivityIn",
    "CheckinIn",
    "CheckinRecord",
    "RedFlag",
    "SelfLoggedKind",
]

RedFlag = Literal[
    "sharp_pain", "numbness_or_weakness", "excessive_fatigue", "wound_redness_or_drainage", "fever"
]
#: Symptoms after which the regimen says "stop and seek input" (DESIGN.md, the regimen), plus the
#: wound-infection signs of post-operative guidance (redness, drainage, fever).
RED_FLAGS: tuple[RedFlag, ...] = (
    "sharp_pain",
    "numbness_or_weakness",
    "excessive_fatigue",
    "wound_redness_or_drainage",
    "fever",
)
SelfLoggedKind = Literal["swimming", "elliptical", "other"]


class ActivityIn(BaseModel):
    """An activity the band cannot see, with its duration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SelfLoggedKind
    # 600 min: a day's plausible upper bound for one logged activity (tunable default).
    minutes: int = Field(ge=1, le=600)


class CheckinIn(BaseModel):
    """A daily check-in; ``day`` defaults to today in the patient's time zone."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "day": "2026-05-10",
                    "pain_0_10": 3,
                    "stretching_sessions": 2,
                    "strength_session": False,
                    "activities": [{"kind": "swimming", "minutes": 20}],
                    "red_flags": [],
                    "note": "stiff in the morning, better after the walk",
                }
            ]
        },
    )

    day: date | None = None
    pain_0_10: int | None = Field(default=None, ge=0, le=10, description="numeric rating scale")
    # The regimen asks for stretching 2–3 times daily; 20 bounds typing mistakes (tunable default).
    stretching_sessions: int = Field(default=0, ge=0, le=20)
    strength_session: bool = False
    # Tunable default: ten logged activities per check-in is far beyond a normal day.
    activities: list[ActivityIn] = Field(default_factory=list, max_length=10)
    red_flags: list[RedFlag] = Field(default_factory=list, max_length=len(RED_FLAGS))
    # The schema's CHECK (migration 0010): a few sentences of free text.
    note: str = Field(default="", max_length=2000)


class CheckinRecord(BaseModel):
    """A stored check-in, as ``GET /checkins``, ``GET /days`` and the pages show it.

    ``created_at`` is UTC to the second (``2026-05-10T18:02:11Z``).
    """

    model_config = ConfigDict(frozen=True)

    id: int
    day: date
    pain_0_10: int | None
    stretching_sessions: int
    strength_session: bool
    activities: list[ActivityIn]
    red_flags: list[RedFlag]
    note: str
    created_at: datetime


#: The fields of :class:`CheckinRecord`, in order: the SQL that renders check-ins as JSON text
#: (``service.summaries``, the days route's fast path) builds exactly these.
CHECKIN_FIELDS: tuple[str, ...] = tuple(CheckinRecord.model_fields)
