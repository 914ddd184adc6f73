"""Queued notifications of one device turned into ``collector.wire`` samples.

Runs in the consumer task, never in a BLE callback: parses with :mod:`collector.profiles`, turns
cumulative counters into deltas with :mod:`collector.counters`, and keeps every value within the
bounds of the wire schema (:mod:`wire`, the structs the service decodes with) so the service never
rejects a batch for it. Each notification is dispatched by its characteristic to the profile of
:data:`collector.profiles.PROFILES` that parses it, and on to that profile's handler here.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import wire
from collector.counters import CounterEvent, CrankCadence, RolloverCounter, StepCounter
from collector.errors import PayloadError
from collector.link import ClockAnchor, Notification
from collector.profiles import PROFILES, battery, csc, ftms, heart_rate, huami, infinitime, rsc
from collector.profiles.heart_rate import SensorContact
from collector.wire import BikeSample, CadenceSample, HeartRateSample, Sample, StepsSample

__all__ = ["DecoderStats", "NotificationDecoder"]

_LOG = logging.getLogger("collector.hub")

_NS_PER_S = 1_000_000_000  # nanoseconds per second (SI)
# The same payload twice within this window is BlueZ echoing a read as a notification
# (bleak client.py, start_notify: "BlueZ will return the response as both a notification and
# read"); real repeats of a value (1 Hz heart rate) are a second apart; tunable default.
_ECHO_WINDOW_NS = 50_000_000
# Profiles by the characteristic that notifies them.
_PROFILE_BY_UUID = {p.characteristic_uuid: p for p in PROFILES}
# A profile handler: the parsed record, the local receive time, epoch seconds.
_Handler = Callable[[Any, datetime, float], list[Sample]]
_CONTACT = {
    SensorContact.DETECTED: "detected",
    SensorContact.NOT_DETECTED: "not_detected",
    SensorContact.NOT_SUPPORTED: "not_supported",
}


@dataclass(frozen=True, slots=True)
class DecoderStats:
    """What one device's decoder has seen; for status and logs."""

    battery_percent: int | None
    last_sample_s: float | None
    samples: int
    echoes: int
    invalid: int
    out_of_range: int


class NotificationDecoder:
    """Per-device parsing state: counters, FTMS fragments, echo suppression.

    Parameters
    ----------
    anchor
        Converts the callbacks' monotonic stamps to wall time (anchored once per run).
    counters
        Persisted counter state from an earlier run (:meth:`counter_state`), if any.
    sensor
        The hub's number for this device (1–255), carried by every sample it yields so that the
        service keeps two devices' samples of the same millisecond apart (WIRE_FORMAT.md).
    steps_counted_elsewhere
        Whether another paired device (a band counting the day's steps) already reports the
        steps taken on this device. A treadmill's step counter then becomes walking cadence
        instead of steps, so that steps on the treadmill are not counted twice; with no such
        band, the treadmill's steps are the patient's steps.
    """

    def __init__(
        self,
        *,
        anchor: ClockAnchor,
        sensor: int = 0,
        counters: dict[str, Any] | None = None,
        steps_counted_elsewhere: Callable[[], bool] = lambda: False,
    ) -> None:
        self._anchor = anchor
        self._sensor = sensor
        self._steps_counted_elsewhere = steps_counted_elsewhere
        saved = counters or {}
        self._steps = StepCounter.from_dict(saved["steps"]) if "steps" in saved else StepCounter()
        self._treadmill_steps = (
            RolloverCounter.from_dict(saved["treadmill_steps"])
            if "treadmill_steps" in saved
            else RolloverCounter.for_treadmill_steps()
        )
        self._crank = CrankCadence()
        self._bike = ftms.FtmsFragmentMerger[ftms.IndoorBikeData]()
        self._treadmill = ftms.FtmsFragmentMerger[ftms.TreadmillData]()
        self._last_payload: dict[str, tuple[int, bytes]] = {}
        self._warned: set[str] = set()
        self._battery: int | None = None
        self._last_sample_s: float | None = None
        self._samples = self._echoes = self._invalid = self._out_of_range = 0
        self._handlers: dict[str, _Handler] = {
            "heart_rate": self._on_heart_rate,
            "rsc": self._on_rsc,
            "csc": self._on_csc,
            "ftms_indoor_bike": self._on_ftms_indoor_bike,
            "ftms_treadmill": self._on_ftms_treadmill,
            "infinitime_steps": self._on_infinitime_steps,
            "huami_realtime_steps": self._on_huami_realtime_steps,
            "battery": self._on_battery,
        }
        assert set(self._handlers) == {p.name for p in PROFILES}, "a profile without a handler"

    def stats(self) -> DecoderStats:
        """A snapshot of the counts."""
        return DecoderStats(
            battery_percent=self._battery,
            last_sample_s=self._last_sample_s,
            samples=self._samples,
            echoes=self._echoes,
            invalid=self._invalid,
            out_of_range=self._out_of_range,
        )

    def counter_state(self) -> dict[str, Any]:
        """JSON-ready counter state to persist between runs."""
        return {"steps": self._steps.to_dict(), "treadmill_steps": self._treadmill_steps.to_dict()}

    def reset_link(self) -> None:
        """Forget per-connection state (FTMS fragments, crank reference) after a reconnect."""
        self._bike.flush()
        self._treadmill.flush()
        self._crank = CrankCadence()

    def decode(self, notification: Notification) -> list[Sample]:
        """Turn one queued notification into zero or more samples."""
        t_ns, uuid, payload = notification
        previous = self._last_payload.get(uuid)
        self._last_payload[uuid] = (t_ns, payload)
        if previous is not None and previous[1] == payload and t_ns - previous[0] < _ECHO_WINDOW_NS:
            self._echoes += 1
            return []
        at = self._anchor.to_datetime(t_ns).astimezone()
        t_s = self._anchor.wall_ns_of(t_ns) / _NS_PER_S
        try:
            samples = self._parse(uuid, payload, at=at, t_s=t_s)
        except PayloadError as exc:
            self._invalid += 1
            if uuid not in self._warned:
                self._warned.add(uuid)
                _LOG.warning("ignoring malformed %s payload %s: %s", uuid, payload.hex(), exc)
            return []
        if samples:
            self._samples += len(samples)
            self._last_sample_s = t_s
        if self._sensor:
            samples = [replace(sample, sensor=self._sensor) for sample in samples]
        return samples

    def _parse(self, uuid: str, payload: bytes, *, at: datetime, t_s: float) -> list[Sample]:
        profile = _PROFILE_BY_UUID.get(uuid)
        if profile is None:
            return []
        return self._handlers[profile.name](profile.parse(payload), at, t_s)

    # One handler per profile of collector.profiles.PROFILES (the table in __init__); each takes
    # that profile parser's record, the local receive time and the epoch seconds.

    def _on_heart_rate(
        self, m: heart_rate.HeartRateMeasurement, _at: datetime, t_s: float
    ) -> list[Sample]:
        return self._heart_rate(m, t_s)

    def _on_battery(self, level: battery.BatteryLevel, _at: datetime, _t_s: float) -> list[Sample]:
        self._battery = level.percent
        return []

    def _on_rsc(self, m: rsc.RscMeasurement, _at: datetime, t_s: float) -> list[Sample]:
        return self._cadence(float(m.cadence_spm), m.running, t_s)

    def _on_csc(self, c: csc.CscMeasurement, _at: datetime, t_s: float) -> list[Sample]:
        if c.crank_revs is None or c.crank_event_s is None:
            return []
        self._crank, rpm = self._crank.update(
            crank_revs=c.crank_revs, crank_event_s=c.crank_event_s
        )
        return [] if rpm is None else self._bike_sample(rpm, None, t_s)

    def _on_ftms_indoor_bike(
        self, data: ftms.IndoorBikeData, _at: datetime, t_s: float
    ) -> list[Sample]:
        out: list[Sample] = []
        for record in self._bike.feed(data):
            if record.cadence_rpm is not None:
                out += self._bike_sample(record.cadence_rpm, record.power_w, t_s)
        return out

    def _on_ftms_treadmill(
        self, data: ftms.TreadmillData, at: datetime, t_s: float
    ) -> list[Sample]:
        out: list[Sample] = []
        for tread in self._treadmill.feed(data):
            if tread.steps is not None:
                before = self._treadmill_steps.last_time
                update = self._treadmill_steps.update(value=tread.steps, at=at)
                self._treadmill_steps = update.counter
                if before is None:
                    continue
                if self._steps_counted_elsewhere():
                    out += self._treadmill_cadence(update.delta_count, before, t_s)
                else:
                    out += self._steps_sample(update.delta_count, before, t_s)
        return out

    def _on_infinitime_steps(
        self, count: infinitime.InfiniTimeSteps, at: datetime, t_s: float
    ) -> list[Sample]:
        return self._steps_today(count.steps_today, at, t_s)

    def _on_huami_realtime_steps(
        self, steps: huami.HuamiRealtimeSteps, at: datetime, t_s: float
    ) -> list[Sample]:
        return self._steps_today(steps.steps_today, at, t_s)

    def _heart_rate(self, m: heart_rate.HeartRateMeasurement, t_s: float) -> list[Sample]:
        if not wire.BPM_MIN <= m.bpm <= wire.BPM_MAX:
            self._out_of_range += 1
            return []
        rr = tuple(r for r in m.rr_s if wire.RR_MIN_S <= r <= wire.RR_MAX_S)[: wire.RR_MAX_COUNT]
        contact: Any = _CONTACT.get(m.contact)
        return [HeartRateSample(t_s=t_s, bpm=m.bpm, rr_s=rr, contact=contact)]

    def _cadence(self, spm: float, running: bool, t_s: float) -> list[Sample]:
        if not 0.0 <= spm <= wire.SPM_MAX:
            self._out_of_range += 1
            return []
        return [CadenceSample(t_s=t_s, spm=spm, running=running)]

    def _treadmill_cadence(self, steps: int, since: datetime, t_s: float) -> list[Sample]:
        elapsed_s = t_s - since.timestamp()
        if steps <= 0 or elapsed_s <= 0:
            return []
        return self._cadence(steps * 60.0 / elapsed_s, False, t_s)

    @property
    def counts_steps_today(self) -> bool:
        """Whether this device reports the day's steps (a band's steps-today counter)."""
        return self._steps.last_time is not None

    def _bike_sample(self, rpm: float, power_w: int | None, t_s: float) -> list[Sample]:
        if not 0.0 <= rpm <= wire.RPM_MAX:
            self._out_of_range += 1
            return []
        if power_w is not None and not 0 <= power_w <= wire.POWER_MAX_W:
            power_w = None
        return [BikeSample(t_s=t_s, rpm=rpm, power_w=power_w)]

    def _steps_today(self, steps_today: int, at: datetime, t_s: float) -> list[Sample]:
        before = self._steps.last_time
        update = self._steps.update(steps_today=steps_today, at=at)
        self._steps = update.counter
        if update.event in (CounterEvent.FIRST, CounterEvent.STALE) or before is None:
            return []
        return self._steps_sample(update.delta_count, before, t_s)

    def _steps_sample(self, steps: int, since: datetime, t_s: float) -> list[Sample]:
        if steps <= 0:
            return []
        elapsed_s = t_s - since.timestamp()
        interval_s = min(
            wire.INTERVAL_MAX_S,
            max(wire.INTERVAL_MIN_S, math.ceil(elapsed_s), math.ceil(steps / wire.STEPS_PER_S_MAX)),
        )
        if steps > wire.STEPS_PER_S_MAX * interval_s:
            self._out_of_range += 1
            return []
        return [StepsSample(t_s=t_s, steps=steps, interval_s=interval_s)]
