"""What a parser hands the import pipeline: the samples of each source in a file, located.

A parser turns one file into :class:`ParsedFile`: per source (a watch, a phone, a bike computer)
the samples as :mod:`wire` structs, the very ones ``POST /v1/ingest`` decodes, each with where in
the file it came from (``where``), so that a problem found by the ingest validation names the
record. A parser refuses what it cannot read with :class:`ImportFileError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.errors import ValidationFailedError
from wire import Sample

__all__ = [
    "Activity",
    "FileSummary",
    "ImportFileError",
    "ParsedFile",
    "SourceSamples",
    "wire_time",
]


class ImportFileError(ValidationFailedError):
    """A file that cannot be imported; ``detail`` names the file, the record and the problem."""

    def __init__(self, file: str, message: str, *, record: str | None = None) -> None:
        where = f"{file}, {record}" if record else file
        super().__init__(f"{where}: {message}; nothing of this file was stored", file=file)
        self.file = file
        self.record = record


@dataclass(frozen=True)
class FileSummary:
    """The file's own figures (device summaries), for the import report and the tests."""

    sport: str | None = None
    avg_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    timer_s: float | None = None
    steps: int | None = None
    workouts: tuple[tuple[str, datetime, float], ...] = ()  # (activity, start, duration_s)
    # TCX laps as the device summarised them: (avg bpm, max bpm, total time s).
    laps: tuple[tuple[float | None, float | None, float | None], ...] = ()


@dataclass(frozen=True)
class Activity:
    """An activity the file declares (a workout, a session's sport): kind and aware interval."""

    kind: str  # walk | bike | run (analysis.ACTIVITY_KINDS)
    start: datetime
    end: datetime
    where: str


@dataclass
class SourceSamples:
    """The samples of one source of a file, in file order, each with its location, and the
    activities the source declares."""

    key: str  # stable: the same device in another file is the same source
    name: str  # shown as the device's name, e.g. "file import: Garmin fenix2 (FIT)"
    samples: list[Sample] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    def add(self, sample: Sample, where: str) -> None:
        self.samples.append(sample)
        self.where.append(where)

    def declare(self, kind: str | None, start: datetime, end: datetime, where: str) -> None:
        """Declare an activity of ``kind`` (``None``: a sport the analysis has no kind for)."""
        if kind is not None and end > start:
            self.activities.append(Activity(kind, start, end, where))


@dataclass
class ParsedFile:
    """One imported file: its format, its sources and its own summary figures."""

    name: str
    format: str  # fit | tcx | gpx | apple_health | fitbit
    sources: dict[str, SourceSamples] = field(default_factory=dict)
    summary: FileSummary = field(default_factory=FileSummary)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def source(self, key: str, name: str) -> SourceSamples:
        if key not in self.sources:
            self.sources[key] = SourceSamples(key=key, name=name)
        return self.sources[key]

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def n_samples(self) -> int:
        return sum(len(s.samples) for s in self.sources.values())

    def counts(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for source in self.sources.values():
            for sample in source.samples:
                kind = type(sample).__name__
                kinds[kind] = kinds.get(kind, 0) + 1
        return kinds


def wire_time(t: datetime) -> str:
    """An aware time as the wire format's RFC 3339 UTC string (``…Z``)."""
    if t.tzinfo is None:
        raise ValueError("naive time")
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
