"""RFC 3339 times of a whole batch to PostgreSQL microseconds, in one numpy step.

The strings have already matched ``schema.RFC3339_PATTERN``; numpy parses the local part in C
(``datetime64[us]``) and the offsets are applied as a vector. A string whose date does not exist
(2026-02-30, 24:00:00) is reported by its index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from service.db.epoch import PG_EPOCH_S

__all__ = ["TimesError", "times_us"]

_PG_EPOCH_US = np.datetime64(PG_EPOCH_S, "s").astype("datetime64[us]")
_US_PER_MINUTE = 60_000_000


class TimesError(ValueError):
    """Some times do not name a real instant; ``indexes`` says which."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(f"{len(indexes)} impossible times")
        self.indexes = indexes


def _offset_minutes(text: str) -> int:
    sign = 1 if text[-6] == "+" else -1
    return sign * (int(text[-5:-3]) * 60 + int(text[-2:]))


def times_us(texts: Sequence[str]) -> npt.NDArray[np.int64]:
    """Microseconds since 2000-01-01 UTC of each ``…Z`` / ``…±hh:mm`` time in ``texts``."""
    local = [t[:-1] if t[-1] == "Z" else t[:-6] for t in texts]
    try:
        parsed = np.array(local, dtype="datetime64[us]")
    except ValueError:
        raise TimesError(_impossible(local)) from None
    us: npt.NDArray[np.int64] = (parsed - _PG_EPOCH_US).astype(np.int64)
    shifted = [i for i, t in enumerate(texts) if t[-1] != "Z"]
    if shifted:
        offsets = np.array([_offset_minutes(texts[i]) for i in shifted], dtype=np.int64)
        us[shifted] -= offsets * _US_PER_MINUTE
    return us


def _impossible(local: list[str]) -> list[int]:
    bad = []
    for i, text in enumerate(local):
        try:
            np.datetime64(text, "us")
        except ValueError:
            bad.append(i)
    return bad
