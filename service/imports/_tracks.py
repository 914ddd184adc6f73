"""TCX (Garmin Training Center) and GPX tracks: heart rate and cadence of each track point.

TCX: ``Trackpoint/HeartRateBpm/Value``; ``Trackpoint/Cadence`` is crank rpm (the schema's
``CadenceValue_t``, written by bike computers) and becomes bike samples with the
``ActivityExtension/v2`` ``TPX/Watts``; ``TPX/RunCadence`` is strides per minute like FIT's, so
steps per minute are twice it. GPX: the Garmin ``TrackPointExtension`` (v1 or v2) ``hr`` and
``cad``; ``cad`` is crank rpm on a track whose ``type`` names cycling and strides per minute on
one that names running, walking or hiking; on a track of another or no type it is left out.
A TCX activity's ``Sport`` and a GPX track's ``type`` that name biking, running or walking
declare that activity over the span of its samples (analysis/activities.py).
Times without an offset are read as UTC (both formats write UTC). Elements are matched by local
name, so any namespace prefix works; the tree is parsed with the standard library's expat, which
resolves no external entities and limits entity expansion.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from service.imports._model import (
    FileSummary,
    ImportFileError,
    ParsedFile,
    SourceSamples,
    wire_time,
)
from wire import Bike, Cadence, HeartRate

__all__ = ["parse_gpx", "parse_tcx"]

_CYCLING = ("cycl", "bik", "ride")
_ON_FOOT = ("run", "walk", "hik")


def _kind(sport: str) -> str | None:
    """A sport or track type as a declared activity kind (analysis.activities), if it names one."""
    lower = sport.lower()
    if any(word in lower for word in _CYCLING):
        return "bike"
    if "run" in lower:
        return "run"
    return "walk" if any(word in lower for word in _ON_FOOT) else None


def _declare(source: SourceSamples, kind: str | None, first: int, where: str) -> None:
    """Declare ``kind`` over the source's samples from index ``first`` (first to last time)."""
    if kind is None or len(source.samples) <= first:
        return
    times = [datetime.fromisoformat(s.t) for s in source.samples[first:]]
    source.declare(kind, min(times), max(times), where)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, *path: str) -> ET.Element | None:
    node: ET.Element | None = element
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    return node


def _text(element: ET.Element, *path: str) -> str | None:
    node = _child(element, *path)
    return None if node is None or node.text is None else node.text.strip()


def _descendants(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (e for e in element.iter() if _local(e.tag) == name)


def _root(data: bytes, name: str) -> ET.Element:
    try:
        return ET.parse(io.BytesIO(data)).getroot()  # noqa: S314 - expat: no external entities
    except ET.ParseError as exc:
        raise ImportFileError(name, f"not well-formed XML ({exc})") from None


def _time(raw: str | None, name: str, record: str) -> datetime:
    try:
        t = datetime.fromisoformat(raw or "")
    except ValueError:
        raise ImportFileError(
            name, f"time {raw!r} is not an ISO 8601 time", record=record
        ) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _number(raw: str | None, name: str, record: str, field: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise ImportFileError(name, f"{field} {raw!r} is not a number", record=record) from None


def _bpm(value: float | None) -> int | None:
    return None if value is None else round(value)


def parse_tcx(data: bytes, name: str) -> ParsedFile:
    """The samples of a TCX file and its laps' own totals."""
    root = _root(data, name)
    if _local(root.tag) != "TrainingCenterDatabase":
        raise ImportFileError(name, "not a TCX file (no TrainingCenterDatabase root)")
    parsed = ParsedFile(name=name, format="tcx")
    laps: list[tuple[float | None, float | None, float | None]] = []
    sports: list[str] = []
    n_point = 0
    for activity in _descendants(root, "Activity"):
        sport = activity.get("Sport", "Other")
        sports.append(sport)
        creator = _text(activity, "Creator", "Name") or "device"
        unit = _text(activity, "Creator", "UnitId") or "none"
        key = f"tcx:unit:{unit}" if unit != "none" else f"tcx:{creator}"
        source = parsed.source(key, f"file import: {creator} (TCX)")
        first = len(source.samples)
        for lap_no, lap in enumerate(e for e in activity if _local(e.tag) == "Lap"):
            where_lap = f"lap {lap_no}"
            laps.append(
                (
                    _number(_text(lap, "AverageHeartRateBpm", "Value"), name, where_lap, "average"),
                    _number(_text(lap, "MaximumHeartRateBpm", "Value"), name, where_lap, "maximum"),
                    _number(_text(lap, "TotalTimeSeconds"), name, where_lap, "TotalTimeSeconds"),
                )
            )
            for point in _descendants(lap, "Trackpoint"):
                _tcx_point(parsed, source, point, n_point, sport)
                n_point += 1
        _declare(source, _kind(sport), first, f"Activity #{len(sports) - 1} ({sport})")
    if not sports:
        raise ImportFileError(name, "a TCX file without an Activity")
    parsed.summary = FileSummary(sport="|".join(sports), laps=tuple(laps))
    return parsed


def _tcx_point(
    parsed: ParsedFile, source: SourceSamples, point: ET.Element, n: int, sport: str
) -> None:
    name = parsed.name
    record = f"Trackpoint #{n}"
    raw_time = _text(point, "Time")
    if raw_time is None:
        parsed.skip("track point without a time")
        return
    t = _time(raw_time, name, record)
    stamp = wire_time(t)
    where = f"{record} at {stamp}"
    bpm = _bpm(_number(_text(point, "HeartRateBpm", "Value"), name, where, "HeartRateBpm"))
    if bpm is not None:
        source.add(HeartRate(t=stamp, bpm=bpm), where)
    rpm = _number(_text(point, "Cadence"), name, where, "Cadence")
    tpx = _child(point, "Extensions", "TPX")
    run_cadence = (
        None if tpx is None else _number(_text(tpx, "RunCadence"), name, where, "RunCadence")
    )
    watts = None if tpx is None else _number(_text(tpx, "Watts"), name, where, "Watts")
    if rpm is not None:
        source.add(Bike(t=stamp, rpm=rpm, power_w=None if watts is None else round(watts)), where)
    if run_cadence is not None:
        running = sport.lower() == "running"
        source.add(Cadence(t=stamp, spm=2 * run_cadence, running=running), where)


def parse_gpx(data: bytes, name: str) -> ParsedFile:
    """The heart rate and cadence of a GPX file's track points (Garmin TrackPointExtension)."""
    root = _root(data, name)
    if _local(root.tag) != "gpx":
        raise ImportFileError(name, "not a GPX file (no gpx root)")
    parsed = ParsedFile(name=name, format="gpx")
    creator = root.get("creator") or "device"
    source = parsed.source(f"gpx:{creator}", f"file import: {creator} (GPX)")
    n_point = 0
    types: list[str] = []
    for track in _descendants(root, "trk"):
        kind = (_text(track, "type") or "").lower()
        types.append(kind or "unknown")
        first = len(source.samples)
        for point in _descendants(track, "trkpt"):
            record = f"trkpt #{n_point}"
            n_point += 1
            raw_time = _text(point, "time")
            if raw_time is None:
                parsed.skip("track point without a time")
                continue
            stamp = wire_time(_time(raw_time, name, record))
            where = f"{record} at {stamp}"
            ext = next(_descendants(point, "TrackPointExtension"), None)
            if ext is None:
                continue
            bpm = _bpm(_number(_text(ext, "hr"), name, where, "hr"))
            if bpm is not None:
                source.add(HeartRate(t=stamp, bpm=bpm), where)
            cad = _number(_text(ext, "cad"), name, where, "cad")
            if cad is None:
                continue
            if any(word in kind for word in _CYCLING):
                source.add(Bike(t=stamp, rpm=cad), where)
            elif any(word in kind for word in _ON_FOOT):
                source.add(Cadence(t=stamp, spm=2 * cad, running="run" in kind), where)
            else:
                parsed.skip("cadence of a track without a cycling or walking type")
        _declare(source, _kind(kind), first, f"trk #{len(types) - 1} ({kind or 'no type'})")
    parsed.summary = FileSummary(sport="|".join(types) or None)
    return parsed
