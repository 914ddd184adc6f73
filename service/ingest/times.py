"""RFC 3339 times of a whole batch to PostgreSQL microseconds, checked and parsed as one array.

A batch holds up to 50,000 times; a regular expression and a datetime per string would cost more
than storing the samples. Here the strings become one byte matrix and every rule of the format
(RFC 3339 section 5.6 with a mandatory offset, upper-case ``T`` and ``Z``, at most microseconds)
and of the calendar is checked column-wise with numpy. Problems are reported by index: a string
that is not in the format, and a well-formed one that names no instant (2026-02-30, 24:00:00).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.db.epoch import PG_EPOCH_S
from service.errors import ValidationFailedError

__all__ = ["TimesError", "times_us"]

# "2026-05-10T09:00:01" is 19 characters; a fraction adds "." and 1–6 digits, the offset "Z"
# (1) or "+hh:mm" (6): 20 … 32 characters.
_BASE_LEN, _MAX_FRACTION_DIGITS = 19, 6
_MIN_LEN, _MAX_LEN = _BASE_LEN + 1, _BASE_LEN + 1 + _MAX_FRACTION_DIGITS + 6
# "YYYY-MM-DDTHH:MM:SS": where its punctuation is and which columns hold its six numbers.
_PUNCTUATION = ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":"))
_DATE_TIME_DIGITS = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))
_DAYS_PER_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_US_PER_S = 1_000_000
# Days from 0000-03-01 to 2000-01-01 in the proleptic Gregorian calendar (days_from_civil below).
_DAYS_TO_PG_EPOCH = 730_425
assert PG_EPOCH_S == 946_684_800  # 2000-01-01T00:00:00Z, the epoch the result counts from
_FIELDS = ("year", "month", "day", "hour", "minute", "second", "micro", "offset_h", "offset_m")


class TimesError(ValidationFailedError):
    """Some times are not RFC 3339 (``malformed``) or name no instant (``impossible``).

    A validation error of the service's tree (422): ``service.ingest.validate`` turns it into one
    that names every sample, but it is never a 500 if it escapes.
    """

    def __init__(self, malformed: list[int], impossible: list[int]) -> None:
        super().__init__(
            f"{len(malformed)} malformed and {len(impossible)} impossible times",
            malformed=malformed,
            impossible=impossible,
        )
        self.malformed = malformed
        self.impossible = impossible


@dataclass(frozen=True)
class _Fields:
    """The numeric fields of every time, one int64 column each."""

    year: npt.NDArray[np.int64]
    month: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    hour: npt.NDArray[np.int64]
    minute: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]
    micro: npt.NDArray[np.int64]
    offset_h: npt.NDArray[np.int64]
    offset_m: npt.NDArray[np.int64]
    offset_sign: npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Layout:
    """Where the characters of one shape of time are: its length and whether it ends in "Z".

    A batch usually has one shape (the sender formats every time alike), so the checks below run
    on fixed columns of the whole byte matrix instead of per string.
    """

    length: int
    utc: bool

    @property
    def _fraction_len(self) -> int:
        # Between the seconds and the offset ("Z" or "+hh:mm"): nothing, or "." and the digits.
        return self.length - _BASE_LEN - (1 if self.utc else 6)

    @property
    def fraction_digits(self) -> int:
        return max(self._fraction_len - 1, 0)

    @property
    def possible(self) -> bool:
        return self._fraction_len == 0 or 2 <= self._fraction_len <= 1 + _MAX_FRACTION_DIGITS

    def punctuation(self) -> list[tuple[int, bytes]]:
        marks = list(_PUNCTUATION)
        if self.fraction_digits:
            marks.append((_BASE_LEN, b"."))
        if self.utc:
            marks.append((self.length - 1, b"Z"))
        else:
            marks.append((self.length - 3, b":"))
        return marks

    def number_spans(self) -> list[tuple[int, int]]:
        """(first column, digit count) of each of the nine ``_FIELDS``."""
        spans = list(_DATE_TIME_DIGITS)
        spans.append((_BASE_LEN + 1, self.fraction_digits))
        offset_at = self.length - 5
        width = 0 if self.utc else 2
        return [*spans, (offset_at, width), (offset_at + 3, width)]


def _matrix(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The ASCII bytes of each string as zero-padded rows, and the string lengths.

    A string with other characters becomes an empty row (and so fails every check).
    """
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    try:
        raw = np.array(texts, dtype=f"S{_MAX_LEN}")
    except UnicodeEncodeError:
        raw = np.array([t if t.isascii() else "" for t in texts], dtype=f"S{_MAX_LEN}")
    return raw.view(np.uint8).reshape(len(texts), _MAX_LEN), lengths


def _number(digits: npt.NDArray[np.uint8], start: int, width: int) -> npt.NDArray[np.int32]:
    """The number whose digit values are in columns ``start`` … ``start + width − 1``.

    Horner's rule in int32 (every field is below 2**31).
    """
    value = digits[:, start].astype(np.int32)
    for column in range(start + 1, start + width):
        value *= 10
        value += digits[:, column]
    return value


def _parse_layout(
    chars: npt.NDArray[np.uint8], layout: _Layout
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Which rows of ``chars`` (all of this layout) are well formed, their fields, and "−" signs."""
    ok = np.ones(len(chars), dtype=bool)
    for column, char in layout.punctuation():
        ok &= chars[:, column] == ord(char)
    negative = np.zeros(len(chars), dtype=bool)
    if not layout.utc:
        sign = chars[:, layout.length - 6]
        negative = sign == ord("-")
        ok &= negative | (sign == ord("+"))
    spans = layout.number_spans()
    columns = [start + k for start, width in spans for k in range(width)]
    # The digit values of every span, side by side. uint8 arithmetic wraps: anything below "0"
    # becomes large, so one comparison finds non-digits.
    digits = chars[:, columns] - np.uint8(ord("0"))
    ok &= (digits <= 9).all(axis=1)
    fields = np.zeros((len(_FIELDS), len(chars)), dtype=np.int64)
    first = 0
    for field, (_, width) in enumerate(spans):
        if width:
            fields[field] = _number(digits, first, width)
        first += width
    # Fraction digits are decimals of a second: ".25" is 250,000 µs.
    fields[_FIELDS.index("micro")] *= 10 ** (_MAX_FRACTION_DIGITS - layout.fraction_digits)
    return ok, fields, negative


def _parse(texts: Sequence[str]) -> tuple[_Fields, npt.NDArray[np.bool_]]:
    """The fields of every time and a mask of those in the RFC 3339 format."""
    chars, lengths = _matrix(texts)
    utc = chars[np.arange(len(texts)), np.clip(lengths - 1, 0, _MAX_LEN - 1)] == ord("Z")
    keys = lengths * 2 + utc
    ok = np.zeros(len(texts), dtype=bool)
    values = np.zeros((len(_FIELDS), len(texts)), dtype=np.int64)
    negative = np.zeros(len(texts), dtype=bool)
    # Usually one shape: min == max avoids sorting the keys.
    shapes = [int(keys[0])] if keys.min() == keys.max() else np.unique(keys).tolist()
    for key in shapes:
        layout = _Layout(length=key // 2, utc=bool(key % 2))
        if not (_MIN_LEN <= layout.length <= _MAX_LEN and layout.possible):
            continue
        rows = slice(None) if len(shapes) == 1 else keys == key
        ok[rows], values[:, rows], negative[rows] = _parse_layout(chars[rows], layout)
    fields = _Fields(
        year=values[0],
        month=values[1],
        day=values[2],
        hour=values[3],
        minute=values[4],
        second=values[5],
        micro=values[6],
        offset_h=values[7],
        offset_m=values[8],
        offset_sign=np.where(negative, -1, 1),
    )
    return fields, ok


def _days_from_civil(
    year: npt.NDArray[np.int64], month: npt.NDArray[np.int64], day: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Days since 2000-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms")."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: npt.NDArray[np.int64] = era * 146_097 + doe - _DAYS_TO_PG_EPOCH
    return days


def _real(f: _Fields) -> npt.NDArray[np.bool_]:
    """Which well-formed times name an instant (a day of that month, 23:59:59 at most).

    Leap seconds (":60") are refused: PostgreSQL and the analysis have no place for them.
    """
    leap = ((f.year % 4 == 0) & (f.year % 100 != 0)) | (f.year % 400 == 0)
    month_ok = (f.month >= 1) & (f.month <= 12)
    days_in_month = _DAYS_PER_MONTH[np.clip(f.month, 0, 12)] + (leap & (f.month == 2))
    real: npt.NDArray[np.bool_] = (
        month_ok
        & (f.year >= 1)  # there is no year 0 in RFC 3339 (nor in PostgreSQL)
        & (f.day >= 1)
        & (f.day <= days_in_month)
        & (f.hour <= 23)
        & (f.minute <= 59)
        & (f.second <= 59)
        & (f.offset_h <= 23)
        & (f.offset_m <= 59)
    )
    return real


def times_us(texts: Sequence[str]) -> npt.NDArray[np.int64]:
    """Microseconds since 2000-01-01 UTC of each ``…Z`` / ``…±hh:mm`` time in ``texts``.

    Raises ``TimesError`` naming the indexes of malformed and of impossible times.
    """
    if not texts:
        return np.zeros(0, dtype=np.int64)
    fields, well_formed = _parse(texts)
    real = _real(fields)
    if not (well_formed.all() and real.all()):
        raise TimesError(
            malformed=np.flatnonzero(~well_formed).tolist(),
            impossible=np.flatnonzero(well_formed & ~real).tolist(),
        )
    days = _days_from_civil(fields.year, fields.month, fields.day)
    seconds = days * 86_400 + fields.hour * 3_600 + fields.minute * 60 + fields.second
    seconds -= fields.offset_sign * (fields.offset_h * 3_600 + fields.offset_m * 60)
    us: npt.NDArray[np.int64] = seconds * _US_PER_S + fields.micro
    return us
