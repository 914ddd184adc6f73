"""Input bounds shared by the API models, the CLI and the stores: checked before the database.

Each check raises ``ValueError`` with a message that says what was expected, so that it works as a
pydantic validator (the API answers 422 naming the field) and in the CLI (one clear line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = [
    "CLEARANCE_FIELDS",
    "EARLIEST_SURGERY_DATE",
    "MAX_EMAIL_LENGTH",
    "SURGERY_AHEAD_DAYS",
    "check_email",
    "check_surgery_date",
    "parse_iso_date",
    "problems_before_surgery",
]

# 320 characters: the longest address SMTP allows (RFC 5321 §4.5.3.1, 64 + 1 + 255).
MAX_EMAIL_LENGTH = 320
# One "@" with something on each side and no spaces: deliverability is the mail server's check.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# No patient of this service had surgery before 1900 (birth years start there too).
EARLIEST_SURGERY_DATE = date(1900, 1, 1)
# Tunable default: a patient may be enrolled up to half a year before a scheduled operation.
SURGERY_AHEAD_DAYS = 183
CLEARANCE_FIELDS = ("running_cleared_on", "swimming_cleared_on", "elliptical_cleared_on")


def check_email(value: str) -> str:
    """``value`` stripped, when it looks like an e-mail address (``name@host``)."""
    email = value.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("expected an e-mail address such as nurse@clinic.example")
    return email


def check_surgery_date(value: date, *, today: date | None = None) -> date:
    """``value`` when it is from 1900 on and at most :data:`SURGERY_AHEAD_DAYS` ahead."""
    latest = (today or datetime.now(UTC).date()) + timedelta(days=SURGERY_AHEAD_DAYS)
    if not EARLIEST_SURGERY_DATE <= value <= latest:
        raise ValueError(
            f"the surgery date must be between {EARLIEST_SURGERY_DATE.isoformat()} and "
            f"{latest.isoformat()} (at most {SURGERY_AHEAD_DAYS} days ahead)"
        )
    return value


def problems_before_surgery(
    surgery_date: date, dates: Mapping[str, date | None]
) -> list[dict[str, Any]]:
    """A 422 ``errors`` entry for every date of ``dates`` that lies before ``surgery_date``."""
    return [
        {"loc": [name], "msg": f"may not be before the surgery date {surgery_date.isoformat()}"}
        for name, value in dates.items()
        if value is not None and value < surgery_date
    ]


def parse_iso_date(value: str, *, option: str) -> date:
    """A ``YYYY-MM-DD`` date, or ``ValueError`` naming ``option`` and the expected format."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None
