"""Apple Health exports: ``export.zip`` (as the Health app shares it) or its ``export.xml``.

Exports run to gigabytes, so the XML is parsed as a stream (``iterparse``) and every element is
cleared once read; only the wire samples are kept. Read: ``HKQuantityTypeIdentifierHeartRate``
records (``count/min``) as heart rate, ``HKQuantityTypeIdentifierStepCount`` records as the steps
counted between their start and end (longer than an hour: split into hours, the count shared out
in proportion), and walking, cycling and running ``Workout``s into the file's summary and as
the activities their source declares (they inform session detection). Each
``sourceName`` (the watch, the phone) is its own source. Other record types are left out.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

from service.imports._model import (
    FileSummary,
    ImportFileError,
    ParsedFile,
    SourceSamples,
    wire_time,
)
from wire import INTERVAL_MAX_S, HeartRate, Steps

__all__ = ["parse_apple"]

_HR = "HKQuantityTypeIdentifierHeartRate"
_STEPS = "HKQuantityTypeIdentifierStepCount"
_WORKOUTS = {
    "HKWorkoutActivityTypeWalking": "walking",
    "HKWorkoutActivityTypeHiking": "walking",
    "HKWorkoutActivityTypeCycling": "cycling",
    "HKWorkoutActivityTypeRunning": "running",
}
# The workout's activity as a declared activity kind (analysis.activities).
_KINDS = {"walking": "walk", "cycling": "bike", "running": "run"}
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # the export's "2019-10-01 08:00:05 +0200"


def _open_xml(path: Path, name: str) -> tuple[IO[bytes], zipfile.ZipFile | None]:
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == "export.xml"]
        if not members:
            archive.close()
            raise ImportFileError(name, "an Apple Health archive without export.xml")
        return archive.open(members[0]), archive
    return path.open("rb"), None


def _time(raw: str | None, name: str, record: str) -> datetime:
    try:
        return datetime.strptime(raw or "", _DATE_FORMAT)
    except ValueError:
        raise ImportFileError(
            name, f"date {raw!r} is not like 2019-10-01 08:00:05 +0200", record=record
        ) from None


def _value(raw: str | None, name: str, record: str) -> float:
    try:
        return float(raw or "")
    except ValueError:
        raise ImportFileError(name, f"value {raw!r} is not a number", record=record) from None


def _elements(stream: IO[bytes], name: str) -> Iterator[tuple[int, ET.Element]]:
    """Each top-level element of ``HealthData`` once complete, cleared after use."""
    depth = 0
    root: ET.Element | None = None
    n = 0
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
            if event == "start":
                if depth == 0:
                    root = element
                depth += 1
                continue
            depth -= 1
            if depth == 1:
                yield n, element
                n += 1
                element.clear()
                if root is not None:
                    root.clear()  # drop the references the root keeps to read children
    except ET.ParseError as exc:
        raise ImportFileError(name, f"not well-formed XML ({exc})") from None
    if root is None or root.tag != "HealthData":
        raise ImportFileError(name, "not an Apple Health export (no HealthData root)")


def parse_apple(path: Path, name: str) -> ParsedFile:
    """The heart rate and steps of an Apple Health export, streamed."""
    parsed = ParsedFile(name=name, format="apple_health")
    workouts: list[tuple[str, datetime, float]] = []
    stream, archive = _open_xml(path, name)
    try:
        for n, element in _elements(stream, name):
            if element.tag == "Record":
                kind = element.get("type")
                if kind in (_HR, _STEPS):
                    _record(parsed, element, n, kind)
                else:
                    parsed.skip("other record types")
            elif element.tag == "Workout":
                activity = _WORKOUTS.get(element.get("workoutActivityType") or "")
                if activity is not None:
                    record = f"Workout #{n}"
                    start = _time(element.get("startDate"), name, record)
                    end = _time(element.get("endDate"), name, record)
                    workouts.append((activity, start, (end - start).total_seconds()))
                    source = _source(parsed, element)
                    source.declare(_KINDS[activity], start, end, record)
    finally:
        stream.close()
        if archive is not None:
            archive.close()
    parsed.summary = FileSummary(workouts=tuple(workouts))
    return parsed


def _source(parsed: ParsedFile, element: ET.Element) -> SourceSamples:
    source_name = element.get("sourceName") or "Apple Health"
    return parsed.source(f"apple:{source_name}", f"file import: {source_name} (Apple Health)")


def _record(parsed: ParsedFile, element: ET.Element, n: int, kind: str) -> None:
    name = parsed.name
    source = _source(parsed, element)
    record = f"Record #{n} ({kind.removeprefix('HKQuantityTypeIdentifier')})"
    value = _value(element.get("value"), name, record)
    end = _time(element.get("endDate"), name, record)
    if kind == _HR:
        start = _time(element.get("startDate"), name, record)
        stamp = wire_time(start)
        source.add(HeartRate(t=stamp, bpm=round(value)), f"{record} at {stamp}")
        return
    start = _time(element.get("startDate"), name, record)
    total_s = max(round((end - start).total_seconds()), 1)
    steps = round(value)
    # Pieces of at most an hour, ending at the record's end; the count in proportion.
    pieces = -(-total_s // INTERVAL_MAX_S)
    given = 0
    for k in range(pieces):
        piece_end_s = min(total_s, (k + 1) * INTERVAL_MAX_S)
        interval = piece_end_s - k * INTERVAL_MAX_S
        share = round(steps * piece_end_s / total_s) - given
        given += share
        t = start + timedelta(seconds=piece_end_s) if total_s > 1 or end > start else end
        stamp = wire_time(t)
        source.add(Steps(t=stamp, steps=share, interval_s=interval), f"{record} at {stamp}")
