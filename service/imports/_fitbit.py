"""A Fitbit account export (Fitbit's "Export your account archive", or Google Takeout's Fitbit
folder): the per-day files of steps and heart rate in ``Global Export Data``.

``steps-YYYY-MM-DD.json`` holds the steps of each minute (``[{"dateTime": "05/01/23 00:01:00",
"value": "12"}]``) and ``heart_rate-YYYY-MM-DD.json`` the heart rate every few seconds
(``{"value": {"bpm": 62, "confidence": 2}}``); the CSV variants (``steps_*.csv``,
``heart_rate_*.csv``, header ``timestamp,steps`` / ``timestamp,beats per minute``, as newer
exports write) are read the same way. Fitbit writes the wearer's local wall-clock time without
an offset, so times are read in the patient's zone. A zip archive is searched for these files;
a single file is read by its name. Everything is one source, ``fitbit``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from service.imports._model import ImportFileError, ParsedFile, SourceSamples, wire_time
from wire import HeartRate, Steps

__all__ = ["is_fitbit_name", "parse_fitbit"]

_FILE = re.compile(r"(?:^|/)(steps|heart_rate)[-_][^/]*\.(json|csv)$")
_TIME_FORMATS = ("%m/%d/%y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
_STEP_INTERVAL_S = 60  # Fitbit's steps files hold one count per minute


def is_fitbit_name(name: str) -> bool:
    return _FILE.search(name.lower()) is not None


def _members(path: Path, name: str) -> Iterator[tuple[str, bytes]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if is_fitbit_name(member):
                    yield member, archive.read(member)
        return
    if not is_fitbit_name(path.name) and not is_fitbit_name(name):
        raise ImportFileError(name, "not a Fitbit steps or heart_rate file")
    yield name, path.read_bytes()


def _time(raw: Any, zone: ZoneInfo, name: str, record: str) -> datetime:
    text = str(raw or "").strip().removesuffix("Z")
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ImportFileError(name, f"time {raw!r} is not like 05/01/23 00:01:00", record=record)


def _int(raw: Any, name: str, record: str, field: str) -> int:
    try:
        return round(float(raw))
    except (TypeError, ValueError):
        raise ImportFileError(name, f"{field} {raw!r} is not a number", record=record) from None


def _rows(member: str, data: bytes, name: str) -> list[tuple[Any, Any]]:
    """(time, value) pairs of one file, the value a number or Fitbit's ``{"bpm": …}``."""
    if member.lower().endswith(".json"):
        try:
            items = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ImportFileError(name, f"{member} is not valid JSON ({exc})") from None
        if not isinstance(items, list):
            raise ImportFileError(name, f"{member} is not a list of readings")
        return [
            (item.get("dateTime"), item.get("value")) if isinstance(item, dict) else (None, None)
            for item in items
        ]
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    header = next(reader, [])
    if len(header) < 2:
        raise ImportFileError(name, f"{member} has no header of a time and a value column")
    return [(row[0], row[1]) if len(row) >= 2 else (None, None) for row in reader]


def parse_fitbit(path: Path, name: str, *, zone: ZoneInfo) -> ParsedFile:
    """The minute steps and the heart rate of a Fitbit export, in the patient's ``zone``."""
    parsed = ParsedFile(name=name, format="fitbit")
    source = parsed.source("fitbit", "file import: Fitbit (account export)")
    seen = False
    for member, data in _members(path, name):
        seen = True
        kind = "steps" if "steps" in member.lower().rsplit("/", 1)[-1] else "heart_rate"
        for i, (raw_time, raw_value) in enumerate(_rows(member, data, name)):
            record = f"{member} item #{i}"
            _reading(parsed, source, kind, raw_time, raw_value, record, zone)
    if not seen:
        raise ImportFileError(name, "no Fitbit steps-*.json or heart_rate-*.json files inside")
    return parsed


def _reading(
    parsed: ParsedFile,
    source: SourceSamples,
    kind: str,
    raw_time: Any,
    raw: Any,
    record: str,
    zone: ZoneInfo,
) -> None:
    name = parsed.name
    if raw_time is None:
        raise ImportFileError(name, "a reading without dateTime", record=record)
    t = _time(raw_time, zone, name, record)
    if kind == "steps":
        steps = _int(raw, name, record, "value")
        # The dateTime of a minute is its start; the wire counts steps up to the sample's time.
        stamp = wire_time(t + timedelta(seconds=_STEP_INTERVAL_S))
        if steps:  # a minute without steps says nothing the minute grid does not
            where = f"{record} at {stamp}"
            source.add(Steps(t=stamp, steps=steps, interval_s=_STEP_INTERVAL_S), where)
        return
    stamp = wire_time(t)
    where = f"{record} at {stamp}"
    bpm_raw = raw.get("bpm") if isinstance(raw, dict) else raw
    source.add(HeartRate(t=stamp, bpm=_int(bpm_raw, name, record, "bpm")), where)
