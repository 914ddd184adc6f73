"""FIT activity and monitoring files (Garmin, Wahoo, …), decoded with fitdecode.

Activity files: every ``record`` message's heart rate; its cadence by the sport of the session
the record falls in. Running, walking and hiking cadence is FIT's strides per minute (one foot;
FIT profile, ``record.cadence`` in rpm), so steps per minute are twice it, stored as cadence
samples; cycling cadence is crank revolutions per minute, stored with the power as bike samples,
so a ride counts as biking without a bike sensor. Each session's sport (running, walking, hiking,
cycling) is declared as an activity from its start over its elapsed time, so that a ride
recorded with heart rate only counts as biking too (analysis/activities.py). Cadence of other sports (swimming, fitness
equipment) is left out. Monitoring files (``monitoring_b``, vivofit and other trackers): the
cumulative step counts per activity type become per-interval steps; the daily summary messages
(``duration_min`` set) are the device's own totals and are read as the file's summary, not stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import fitdecode

from service.imports._model import FileSummary, ImportFileError, ParsedFile, wire_time
from wire import INTERVAL_MAX_S, Bike, Cadence, HeartRate, Steps

__all__ = ["parse_fit"]

# FIT profile: timestamps count seconds from 1989-12-31T00:00:00Z.
_FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
# FIT sports whose record cadence is strides per minute of walking or running.
_STRIDE_SPORTS = frozenset({"running", "walking", "hiking", "training", "generic_walking"})
_CYCLING_SPORTS = frozenset({"cycling", "e_biking"})
# A session's sport as a declared activity kind (analysis.activities); other sports declare none.
_KINDS = {"running": "run", "walking": "walk", "hiking": "walk", "generic_walking": "walk"} | {
    sport: "bike" for sport in _CYCLING_SPORTS
}


def _values(frame: fitdecode.FitDataMessage) -> dict[str, Any]:
    return {f.name: f.value for f in frame.fields if f.value is not None}


def _raw(frame: fitdecode.FitDataMessage, name: str) -> Any:
    for f in frame.fields:
        if f.name == name:
            return f.raw_value
    return None


def _frames(data: bytes, name: str) -> Iterable[fitdecode.FitDataMessage]:
    try:
        with fitdecode.FitReader(
            data, check_crc=fitdecode.CrcCheck.ENABLED, keep_raw_chunks=False
        ) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    yield frame
    except fitdecode.FitError as exc:
        raise ImportFileError(name, f"not a readable FIT file ({exc})") from None


def _device_key(file_id: dict[str, Any]) -> tuple[str, str]:
    maker = str(file_id.get("manufacturer", "unknown"))
    product = str(file_id.get("garmin_product") or file_id.get("product") or "device")
    serial = file_id.get("serial_number")
    key = f"fit:{maker}:{product}:{serial if serial is not None else 'none'}"
    return key, f"file import: {maker.title()} {product} (FIT)"


def parse_fit(data: bytes, name: str) -> ParsedFile:
    """The samples of a FIT file (see the module docstring for what is read)."""
    parsed = ParsedFile(name=name, format="fit")
    file_id: dict[str, Any] = {}
    records: list[tuple[int, dict[str, Any]]] = []
    sessions: list[dict[str, Any]] = []
    monitoring: list[tuple[int, fitdecode.FitDataMessage]] = []
    for index, frame in enumerate(_frames(data, name)):
        if frame.name == "file_id" and not file_id:
            file_id = _values(frame)
        elif frame.name == "record":
            records.append((index, _values(frame)))
        elif frame.name == "session":
            sessions.append(_values(frame))
        elif frame.name in ("monitoring", "monitoring_info"):
            monitoring.append((index, frame))
    if not file_id:
        raise ImportFileError(name, "a FIT file without a file_id message")
    key, label = _device_key(file_id)
    source = parsed.source(key, label)
    spans = [
        (
            s["start_time"],
            s["start_time"] + timedelta(seconds=float(s.get("total_elapsed_time") or 0)),
            str(s.get("sport", "generic")),
        )
        for s in sessions
        if isinstance(s.get("start_time"), datetime)
    ]

    for n, (start, end, sport) in enumerate(spans):
        source.declare(_KINDS.get(sport), start, end, f"session message #{n} ({sport})")

    def sport_at(t: datetime) -> str:
        for start, end, sport in spans:
            if start <= t <= end:
                return sport
        return spans[-1][2] if len(spans) == 1 else "generic"

    for index, values in records:
        t = values.get("timestamp")
        if not isinstance(t, datetime):
            parsed.skip("record without a time")
            continue
        where = f"record message #{index} at {wire_time(t)}"
        stamp = wire_time(t)
        if "heart_rate" in values:
            source.add(HeartRate(t=stamp, bpm=int(values["heart_rate"])), where)
        if "cadence" in values:
            sport = sport_at(t)
            cadence = float(values["cadence"]) + float(values.get("fractional_cadence") or 0)
            if sport in _STRIDE_SPORTS:
                source.add(Cadence(t=stamp, spm=2 * cadence, running=sport == "running"), where)
            elif sport in _CYCLING_SPORTS:
                power = values.get("power")
                source.add(
                    Bike(t=stamp, rpm=cadence, power_w=None if power is None else int(power)),
                    where,
                )
            else:
                parsed.skip(f"cadence of a {sport} session")
    daily = _monitoring(parsed, source, monitoring)
    parsed.summary = _summary(sessions, daily)
    return parsed


def _monitoring(
    parsed: ParsedFile, source: Any, frames: list[tuple[int, fitdecode.FitDataMessage]]
) -> int | None:
    """Per-interval steps from cumulative monitoring counts; return the daily totals' sum."""
    last_full_s: int | None = None
    previous_s: int | None = None
    cumulative: dict[str, int] = {}
    daily_total: int | None = None
    for index, frame in frames:
        values = _values(frame)
        full = _raw(frame, "timestamp")
        if full is not None:
            last_full_s = int(full)
        if frame.name == "monitoring_info":
            continue
        if "duration_min" in values:  # the device's daily summary
            if "steps" in values:
                daily_total = (daily_total or 0) + int(values["steps"])
            continue
        ts16 = _raw(frame, "timestamp_16")
        if full is None and ts16 is not None and last_full_s is not None:
            # FIT profile: timestamp_16 holds the low 16 bits of the time, after the last full one.
            last_full_s += (int(ts16) - last_full_s) & 0xFFFF
        if last_full_s is None:
            parsed.skip("monitoring message before any time")
            continue
        now_s = last_full_s
        kind = str(values.get("activity_type", ""))
        count = _raw(frame, "steps") if "steps" in values else None
        if count is None and kind in ("walking", "running"):
            # FIT profile: monitoring.cycles is steps for walking and running (subfield steps,
            # scale 1); the decoded value is scaled for "cycles", the raw value is the count.
            count = _raw(frame, "cycles")
        if count is not None and kind:
            before = cumulative.get(kind)
            count = int(count)
            # A lower count is the device's daily reset: it counts from zero again. A monitoring
            # file starts at a reset (the device's local midnight, monitoring_info), so the
            # first count of a type is counted from zero too.
            delta = count if before is None or count < before else count - before
            cumulative[kind] = count
            if delta and previous_s is not None and now_s > previous_s:
                interval = min(now_s - previous_s, INTERVAL_MAX_S)
                t = _FIT_EPOCH + timedelta(seconds=now_s)
                where = f"monitoring message #{index} at {wire_time(t)}"
                source.add(Steps(t=wire_time(t), steps=delta, interval_s=interval), where)
            elif delta:
                parsed.skip("steps without an interval")
        previous_s = now_s
    return daily_total


def _summary(sessions: list[dict[str, Any]], daily_steps: int | None) -> FileSummary:
    if len(sessions) != 1:
        sports = "|".join(str(s.get("sport")) for s in sessions) or None
        return FileSummary(sport=sports, steps=daily_steps)
    s = sessions[0]
    return FileSummary(
        sport=str(s.get("sport")),
        avg_hr_bpm=s.get("avg_heart_rate"),
        max_hr_bpm=s.get("max_heart_rate"),
        timer_s=s.get("total_timer_time"),
        steps=daily_steps,
    )
