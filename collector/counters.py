"""Cumulative device counters turned into per-interval deltas, as pure immutable state machines.

Devices report running totals: a band's steps today, a treadmill's steps this session, a crank's
revolutions. The collector needs "how many since the last reading", counted exactly once across
midnight resets, band reboots, new machine sessions, counter rollovers, duplicate notifications,
reconnects and collector restarts. Each counter here is a frozen dataclass; ``update`` returns a
:class:`CounterUpdate` carrying the next state, the delta and the :class:`CounterEvent` that
explains it. ``to_dict``/``from_dict`` give a JSON-ready form to persist between runs.

The rules share one idea, the *budget*: the largest count a device can plausibly add between two
readings, ``ceil(max_rate × elapsed)`` (never less than ``min_budget``). A drop to a value within
the budget is a restart from zero and the new value is counted; a drop to a larger value cannot be
a restart (a reboot that restored an older total, or stale data), so nothing is counted and the
counter re-baselines. When two explanations fit and nothing favours one, the smaller delta
wins: a missed count is preferred to a count taken twice.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from collector.profiles.csc import crank_cadence_rpm

__all__ = [
    "CounterEvent",
    "CounterUpdate",
    "CrankCadence",
    "RolloverCounter",
    "StepCounter",
]

_SECONDS_PER_MINUTE = 60.0
_DEFAULT_MAX_CADENCE_SPM = 250.0  # tunable default: above sprinting cadence (~200 steps/min)
_DEFAULT_MIN_BUDGET = 8  # tunable default: counts allowed between two near-simultaneous readings
_MIDNIGHT_GRACE_S = 900.0  # tunable default: tolerated clock skew between band and collector
_MAX_CRANK_RPM = 250.0  # tunable default: above any pedalling cadence on a stationary bike
_SESSION_GAP_S = 300.0  # tunable default: readings further apart may straddle a session change
_MAX_WHEEL_REV_PER_S = 20.0  # tunable default: ~150 km/h on a 2.1 m wheel; trainers stay below
_STATE_VERSION = 1  # bump when the persisted form changes


class CounterEvent(enum.Enum):
    """Why a reading produced the delta it did."""

    FIRST = "first"  # first reading ever: it becomes the baseline, nothing is counted
    INCREASE = "increase"  # the counter moved forward within the budget
    DUPLICATE = "duplicate"  # the same value again (re-notification, reconnect): nothing counted
    ROLLOVER = "rollover"  # the counter wrapped past its maximum
    RESET = "reset"  # the counter restarted from zero: midnight, reboot, new machine session
    REGRESSION = "regression"  # went backwards, not to a restart: re-baselined, nothing counted
    JUMP = "jump"  # moved forward by more than the budget: re-baselined, nothing counted
    STALE = "stale"  # older than the last reading: ignored, state unchanged


CounterT = TypeVar("CounterT", "StepCounter", "RolloverCounter")


@dataclass(frozen=True, slots=True)
class CounterUpdate(Generic[CounterT]):
    """The result of feeding one reading to a counter.

    Attributes
    ----------
    counter : StepCounter or RolloverCounter
        The next state; feed the next reading to it.
    delta_count : int
        New counts (steps or revolutions) since the previous reading; never negative.
    event : CounterEvent
        Which rule produced ``delta_count``.
    """

    counter: CounterT
    delta_count: int
    event: CounterEvent


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime in the patient's local zone")


def _budget(*, rate_per_s: float, elapsed_s: float, min_budget: int) -> int:
    return max(min_budget, math.ceil(rate_per_s * elapsed_s))


def _time_from(data: dict[str, Any]) -> datetime | None:
    text = data.get("last_time")
    if text is None:
        return None
    at = datetime.fromisoformat(str(text))
    _require_aware(at)
    return at


def _check_version(data: dict[str, Any], kind: str) -> None:
    if data.get("kind") != kind or data.get("version") != _STATE_VERSION:
        raise ValueError(f"not a version-{_STATE_VERSION} {kind} state: {data!r}")


@dataclass(frozen=True, slots=True)
class StepCounter:
    """Steps-today counter of a band or watch (InfiniTime, Huami) that resets at local midnight.

    Rules, for a reading ``v`` at ``at`` after a last reading ``L`` at ``t``:

    * no last reading: baseline, nothing counted (steps before the first reading cannot be placed
      in time; persist the state so a collector restart does not lose the baseline);
    * ``at`` earlier than ``t``: stale, ignored;
    * ``v == L``: duplicate, 0;
    * ``v > L`` on the same local day (or within ``midnight_grace_s`` after midnight, where the
      band may not have reset yet): ``v - L``;
    * ``v > L`` on a later local day, past the grace: the band reset at midnight while the
      collector was away, so all ``v`` steps are today's: ``v``;
    * ``v < L`` and ``v`` within the budget: reset (midnight or reboot): ``v``;
    * ``v < L`` and ``v`` above the budget: regression (a reboot that restored an older total):
      0, re-baseline.

    A reboot followed by more steps than were on the counter before it reads as an increase and
    under-counts by the pre-reboot total; no reading can tell the two apart.
    """

    last_steps: int | None = None
    last_time: datetime | None = None
    max_cadence_spm: float = _DEFAULT_MAX_CADENCE_SPM
    min_budget: int = _DEFAULT_MIN_BUDGET
    midnight_grace_s: float = _MIDNIGHT_GRACE_S

    def update(self, *, steps_today: int, at: datetime) -> CounterUpdate[StepCounter]:
        """Feed one reading of the device's steps-today counter taken at ``at`` (aware)."""
        _require_aware(at)
        if steps_today < 0:
            raise ValueError(f"steps_today must be >= 0, got {steps_today}")
        moved = replace(self, last_steps=steps_today, last_time=at)
        if self.last_steps is None or self.last_time is None:
            return CounterUpdate(moved, 0, CounterEvent.FIRST)
        if at < self.last_time:
            return CounterUpdate(self, 0, CounterEvent.STALE)
        last = self.last_steps
        if steps_today == last:
            return CounterUpdate(moved, 0, CounterEvent.DUPLICATE)
        if steps_today > last:
            midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
            past_grace = (at - midnight).total_seconds() > self.midnight_grace_s
            if at.date() != self.last_time.date() and past_grace:
                return CounterUpdate(moved, steps_today, CounterEvent.RESET)
            return CounterUpdate(moved, steps_today - last, CounterEvent.INCREASE)
        budget = _budget(
            rate_per_s=self.max_cadence_spm / _SECONDS_PER_MINUTE,
            elapsed_s=(at - self.last_time).total_seconds(),
            min_budget=self.min_budget,
        )
        if steps_today <= budget:
            return CounterUpdate(moved, steps_today, CounterEvent.RESET)
        return CounterUpdate(moved, 0, CounterEvent.REGRESSION)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state, for :meth:`from_dict` after a collector restart."""
        return {
            "kind": "step_counter",
            "version": _STATE_VERSION,
            "last_steps": self.last_steps,
            "last_time": None if self.last_time is None else self.last_time.isoformat(),
            "max_cadence_spm": self.max_cadence_spm,
            "min_budget": self.min_budget,
            "midnight_grace_s": self.midnight_grace_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepCounter:
        """Rebuild a counter from :meth:`to_dict` output; ``ValueError`` if it is not one."""
        _check_version(data, "step_counter")
        last_steps = data["last_steps"]
        return cls(
            last_steps=None if last_steps is None else int(last_steps),
            last_time=_time_from(data),
            max_cadence_spm=float(data["max_cadence_spm"]),
            min_budget=int(data["min_budget"]),
            midnight_grace_s=float(data["midnight_grace_s"]),
        )


@dataclass(frozen=True, slots=True)
class RolloverCounter:
    """A fixed-width cumulative counter that wraps: crank revs (uint16), wheel revs (uint32),
    treadmill steps (uint24).

    Rules, for a reading ``v`` after a last reading ``L`` with budget ``B`` (capped at half the
    range, beyond which a wrap cannot be told from a jump; RFC 1982 serial number arithmetic):

    * no last reading: baseline, nothing counted; stale (earlier ``at``): ignored;
    * ``v == L``: duplicate, 0;
    * ``v > L``: ``v - L`` if within ``B``, else a jump: 0, re-baseline;
    * ``v < L``: the wrap ``v + 2**bits - L`` and the new session from zero ``v`` each qualify
      when within ``B``. If only one qualifies it is counted. If both do, readings at most
      ``session_gap_s`` apart count the wrap (a session rarely ends and restarts exactly as the
      counter nears its maximum), readings further apart count the smaller delta (the machine
      may have been switched off and on in between). A big backwards jump that no wrap explains
      is a new machine session. If neither qualifies: regression, 0, re-baseline.

    Use :meth:`for_crank_revs`, :meth:`for_wheel_revs` or :meth:`for_treadmill_steps` for the
    documented defaults.
    """

    bits: int
    max_rate_per_s: float
    min_budget: int = _DEFAULT_MIN_BUDGET
    session_gap_s: float = _SESSION_GAP_S
    last_value: int | None = None
    last_time: datetime | None = None

    def __post_init__(self) -> None:
        if self.bits not in (16, 24, 32):  # the widths CSC and FTMS counters use
            raise ValueError(f"bits must be 16, 24 or 32, got {self.bits}")
        if self.max_rate_per_s <= 0:
            raise ValueError(f"max_rate_per_s must be > 0, got {self.max_rate_per_s}")

    @classmethod
    def for_crank_revs(cls) -> RolloverCounter:
        """CSC cumulative crank revolutions: uint16 (CSCS 1.0, "CSC Measurement")."""
        return cls(bits=16, max_rate_per_s=_MAX_CRANK_RPM / _SECONDS_PER_MINUTE)

    @classmethod
    def for_wheel_revs(cls) -> RolloverCounter:
        """CSC cumulative wheel revolutions: uint32 (CSCS 1.0, "CSC Measurement")."""
        return cls(bits=32, max_rate_per_s=_MAX_WHEEL_REV_PER_S)

    @classmethod
    def for_treadmill_steps(cls) -> RolloverCounter:
        """FitShow treadmill step count: uint24, restarts with each machine session."""
        return cls(bits=24, max_rate_per_s=_DEFAULT_MAX_CADENCE_SPM / _SECONDS_PER_MINUTE)

    def update(self, *, value: int, at: datetime) -> CounterUpdate[RolloverCounter]:
        """Feed one reading of the counter taken at ``at`` (timezone-aware)."""
        _require_aware(at)
        modulus = 1 << self.bits
        if not 0 <= value < modulus:
            raise ValueError(f"value must fit in uint{self.bits}, got {value}")
        moved = replace(self, last_value=value, last_time=at)
        if self.last_value is None or self.last_time is None:
            return CounterUpdate(moved, 0, CounterEvent.FIRST)
        if at < self.last_time:
            return CounterUpdate(self, 0, CounterEvent.STALE)
        last = self.last_value
        if value == last:
            return CounterUpdate(moved, 0, CounterEvent.DUPLICATE)
        elapsed_s = (at - self.last_time).total_seconds()
        budget = min(
            modulus // 2,
            _budget(
                rate_per_s=self.max_rate_per_s, elapsed_s=elapsed_s, min_budget=self.min_budget
            ),
        )
        if value > last:
            if value - last <= budget:
                return CounterUpdate(moved, value - last, CounterEvent.INCREASE)
            return CounterUpdate(moved, 0, CounterEvent.JUMP)
        wrapped = value + modulus - last
        wrap_fits, restart_fits = wrapped <= budget, value <= budget
        if wrap_fits and (not restart_fits or elapsed_s <= self.session_gap_s or wrapped <= value):
            return CounterUpdate(moved, wrapped, CounterEvent.ROLLOVER)
        if restart_fits:
            return CounterUpdate(moved, value, CounterEvent.RESET)
        return CounterUpdate(moved, 0, CounterEvent.REGRESSION)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state, for :meth:`from_dict` after a collector restart."""
        return {
            "kind": "rollover_counter",
            "version": _STATE_VERSION,
            "bits": self.bits,
            "max_rate_per_s": self.max_rate_per_s,
            "min_budget": self.min_budget,
            "session_gap_s": self.session_gap_s,
            "last_value": self.last_value,
            "last_time": None if self.last_time is None else self.last_time.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloverCounter:
        """Rebuild a counter from :meth:`to_dict` output; ``ValueError`` if it is not one."""
        _check_version(data, "rollover_counter")
        last_value = data["last_value"]
        return cls(
            bits=int(data["bits"]),
            max_rate_per_s=float(data["max_rate_per_s"]),
            min_budget=int(data["min_budget"]),
            session_gap_s=float(data["session_gap_s"]),
            last_value=None if last_value is None else int(last_value),
            last_time=_time_from(data),
        )


@dataclass(frozen=True, slots=True)
class CrankCadence:
    """Crank cadence from consecutive CSC crank revolution data, as an immutable state machine.

    ``update`` returns the next state and the cadence in rpm, or ``None`` when it is undefined:
    on the first reading; on a repeated event (``dt == 0``, no revolution since the last
    notification, see :func:`collector.profiles.csc.crank_cadence_rpm`), which keeps the earlier
    event as the reference; when the event time repeats but the count moved (inconsistent data);
    and above ``max_cadence_rpm`` (a new session, or a gap longer than the 64 s event-time
    rollover). The last two re-baseline. Deciding that a rider has stopped (no new event for a
    while) is the caller's job, from its own receive times.
    """

    last_revs: int | None = None
    last_event_s: float | None = None
    max_cadence_rpm: float = _MAX_CRANK_RPM

    def update(self, *, crank_revs: int, crank_event_s: float) -> tuple[CrankCadence, float | None]:
        """Feed one CSC measurement's crank revolutions and last crank event time (s)."""
        baseline = replace(self, last_revs=crank_revs, last_event_s=crank_event_s)
        if self.last_revs is None or self.last_event_s is None:
            return baseline, None
        cadence = crank_cadence_rpm(
            revs_before=self.last_revs,
            event_before_s=self.last_event_s,
            revs_after=crank_revs,
            event_after_s=crank_event_s,
        )
        if cadence is None:
            return (self if crank_revs == self.last_revs else baseline), None
        if cadence > self.max_cadence_rpm:
            return baseline, None
        return baseline, cadence
