"""The batch time parser against an independent reference: a regular expression and ``datetime``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.ingest.times import TimesError, times_us

# RFC 3339 section 5.6 with a mandatory offset, upper-case T and Z, at most microseconds.
# The offset's minutes are 00-59 (time-minute); datetime.fromisoformat would take "+05:60".
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:[0-5]\d)")
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def reference_us(text: str) -> int | None:
    """Microseconds since 2000-01-01 UTC, or None for a malformed or impossible time."""
    if not text.isascii() or RFC3339.fullmatch(text) is None:
        return None
    fraction = re.search(r"\.(\d+)", text)
    plain = re.sub(r"\.\d+", "", text).replace("Z", "+00:00")
    try:
        instant = datetime.fromisoformat(plain)
    except ValueError:
        return None
    offset = instant.utcoffset()
    if offset is None or abs(offset) >= timedelta(days=1):
        return None
    micro = int(fraction[1].ljust(6, "0")) if fraction else 0
    delta = instant - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micro


def parse_one(text: str) -> int | None:
    try:
        return int(times_us([text])[0])
    except TimesError:
        return None


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)


@st.composite
def rfc3339_texts(draw: st.DrawFn) -> str:
    instant = draw(instants)
    offset_min = draw(offsets)
    digits = draw(st.integers(min_value=0, max_value=6))
    local = instant.astimezone(timezone(timedelta(minutes=offset_min)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits]
    if offset_min == 0 and draw(st.booleans()):
        return text + "Z"
    sign = "-" if offset_min < 0 else "+"
    return text + f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"


@given(rfc3339_texts())
def test_valid_times_match_datetime(text: str) -> None:
    assert parse_one(text) == reference_us(text)


@given(rfc3339_texts(), st.integers(min_value=0, max_value=31), st.characters(max_codepoint=0x7F))
def test_mutated_times_match_the_reference(text: str, position: int, char: str) -> None:
    """One character replaced, inserted or removed: accepted exactly when the reference accepts."""
    position = min(position, len(text))
    for mutated in (
        text[:position] + char + text[position + 1 :],
        text[:position] + char + text[position:],
        text[:position] + text[position + 1 :],
    ):
        assert parse_one(mutated) == reference_us(mutated), mutated


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-29T00:00:00Z",  # not a leap year
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-05-00T00:00:00Z",
        "2026-05-10T24:00:00Z",
        "2026-05-10T09:60:00Z",
        "2026-05-10T09:00:60Z",  # leap seconds are refused
        "2026-05-10T09:00:00+24:00",
        "2026-05-10T09:00:00+05:60",
        "2026-05-10t09:00:00Z",
        "2026-05-10T09:00:00z",
        "2026-05-10T09:00:00",
        "2026-05-10T09:00:00.Z",
        "2026-05-10T09:00:00.1234567Z",
        "2026-05-10 09:00:00Z",
        "2026-05-10T09:00:00+0200",
        "２026-05-10T09:00:00Z",
        "",
        "2026-05-10T09:00:00Z" + " " * 40,
    ],
)
def test_refused_times(text: str) -> None:
    assert parse_one(text) is None
    assert reference_us(text) is None


def test_leap_day_and_fraction_and_offset() -> None:
    texts = [
        "2024-02-29T23:59:59.5Z",
        "2000-01-01T01:00:00.000001+01:00",
        "2026-05-10T09:00:00-02:30",
    ]
    assert times_us(texts).tolist() == [reference_us(t) for t in texts]
    assert times_us(texts)[1] == 1


def test_a_batch_reports_every_bad_time_by_index() -> None:
    texts = ["2026-05-10T09:00:00Z", "2026-02-30T09:00:00Z", "yesterday", "2026-05-10T09:00:01Z"]
    with pytest.raises(TimesError) as caught:
        times_us(texts)
    assert caught.value.malformed == [2]
    assert caught.value.impossible == [1]


def test_mixed_shapes_in_one_batch() -> None:
    texts = [
        "2026-05-10T09:00:00Z",
        "2026-05-10T11:00:00.25+02:00",
        "2026-05-10T09:00:00.123456Z",
        "2026-05-10T04:00:00-05:00",
    ]
    assert times_us(texts).tolist() == [reference_us(t) for t in texts]
