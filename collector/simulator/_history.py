"""Several consecutive simulated days in a patient's time zone, ending yesterday."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from collector.simulator._day import SimulatedDay, simulate_day
from collector.simulator._profiles import PatientProfile, sample_profile

__all__ = [
    "SimulatedHistory",
    "history_profile",
    "iter_history",
    "local_days",
    "simulate_history",
    "time_zone",
]

_DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True)
class SimulatedHistory:
    """A patient and their simulated days, oldest first."""

    profile: PatientProfile
    days: tuple[SimulatedDay, ...]

    @property
    def n_samples(self) -> int:
        """Samples of every kind over all days."""
        return sum(day.n_samples for day in self.days)


def time_zone(tz: str) -> ZoneInfo:
    """The IANA time zone named ``tz``; ``ValueError`` naming it when there is none."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"tz is not an IANA time zone: {tz!r}") from exc


def local_days(*, days: int, tz: str, today: date) -> list[tuple[int, int]]:
    """``(local midnight as epoch seconds, day length in minutes)`` for the days before ``today``.

    The last one is yesterday in ``tz``; days across DST changes last 1,380 or 1,500 minutes.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    zone = time_zone(tz)
    out = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(0), tzinfo=zone).timestamp()
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).timestamp()
        out.append((int(start), int(end - start) // 60))
    return out


def _seeds(seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    patient, days = np.random.SeedSequence(seed).spawn(2)
    return patient, days


def history_profile(*, seed: int) -> PatientProfile:
    """The patient that ``seed`` draws (age, heart-rate limits, baseline steps)."""
    return sample_profile(np.random.default_rng(_seeds(seed)[0]))


def iter_history(
    *,
    days: int,
    stage_week: float,
    seed: int,
    tz: str,
    today: date,
    profile: PatientProfile,
    hr_interval_s: int = 1,
) -> Iterator[SimulatedDay]:
    """Yield ``days`` simulated local days, oldest first, ending yesterday in ``tz``.

    Yesterday is at recovery week ``stage_week``; each earlier day is one seventh of a week
    earlier. Each day has its own random stream keyed by ``seed`` and its distance from
    yesterday, so yesterday is the same whatever ``days`` is.
    """
    spans = local_days(days=days, tz=tz, today=today)
    # Two 32-bit words of the days' seed sequence, extended by the day's distance from yesterday.
    day_state = _seeds(seed)[1].generate_state(2)
    for i, (start_s, n_minutes) in enumerate(spans):
        back = len(spans) - 1 - i
        yield simulate_day(
            day_start_s=start_s,
            n_minutes=n_minutes,
            stage_week=stage_week - back / _DAYS_PER_WEEK,
            baseline_steps_per_day=profile.baseline_steps_per_day,
            rng=np.random.default_rng([*day_state.tolist(), back]),
            hr_interval_s=hr_interval_s,
            profile=profile,
        )


def simulate_history(
    *,
    days: int,
    stage_week: float,
    seed: int,
    tz: str,
    today: date,
    hr_interval_s: int = 1,
    profile: PatientProfile | None = None,
) -> SimulatedHistory:
    """Simulate a patient (drawn from ``seed`` unless given) and their days; see :func:`iter_history`."""
    patient = profile if profile is not None else history_profile(seed=seed)
    simulated = iter_history(
        days=days,
        stage_week=stage_week,
        seed=seed,
        tz=tz,
        today=today,
        profile=patient,
        hr_interval_s=hr_interval_s,
    )
    return SimulatedHistory(profile=patient, days=tuple(simulated))
