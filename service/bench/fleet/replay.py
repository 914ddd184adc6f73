"""What the hubs replay: the worn minutes of simulated days, and each hub's day and place in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import wire
from analysis.simulate import simulate_days

__all__ = ["Profile", "Replay", "profiles", "replay"]

# Distinct simulated days the hubs replay (tunable default; each hub starts at its own offset).
_PROFILES = 64
# Heart-rate noise added to the simulator's 10 s samples interpolated to 1 Hz, beats/min
# (tunable default, below the simulator's own 3 bpm noise).
_HR_1HZ_NOISE_BPM = 1.5


@dataclass(frozen=True)
class Profile:
    bpm: np.ndarray  # int, 60 per worn minute (1 Hz)
    steps: np.ndarray  # int, one per worn minute


def profiles(seed: int, count: int) -> list[Profile]:
    """The worn minutes of ``count`` simulated days: heart rate at 1 Hz and steps per minute."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        (day,) = simulate_days(
            seed=seed * 1000 + k,
            n_days=1,
            first_day_start_s=0,
            daily_walk_min=float(rng.uniform(10, 40)),  # tunable default spread of walking
            non_wear_day_probability=0.0,
        )
        grid = day.build_grid()
        worn = np.flatnonzero(grid.hr_count > 0)
        seconds = (worn[:, None] * 60 + np.arange(60)[None, :]).ravel().astype(np.float64)
        samples = day.samples
        bpm = np.interp(seconds, samples["hr_t_s"], samples["hr_bpm"])
        bpm += rng.normal(0.0, _HR_1HZ_NOISE_BPM, size=bpm.size)
        bpm = np.clip(np.round(bpm), wire.BPM_MIN, wire.BPM_MAX).astype(np.int64)
        out.append(Profile(bpm=bpm, steps=np.round(grid.steps[worn]).astype(np.int64)))
    return out


@dataclass(frozen=True)
class Replay:
    """Each hub replays profile ``profile_of[h]`` from its worn minute ``offset[h]`` on (the
    minutes before it, backwards, are what a prefill of today stores for the hub)."""

    profiles: list[Profile]
    profile_of: np.ndarray  # int, one per hub
    offset: np.ndarray  # int, one per hub: the worn minute of the hub's first upload

    def minutes_before(self, hub: int, count: int) -> np.ndarray:
        """Indices of the ``count`` worn minutes before the hub's offset, oldest first (the
        profile wraps around)."""
        worn = self.profiles[int(self.profile_of[hub])].steps.size
        return (int(self.offset[hub]) - np.arange(count, 0, -1)) % worn


def replay(seed: int, hubs: int) -> Replay:
    """The seeded profiles and each hub's profile and offset."""
    rng = np.random.default_rng(seed)
    made = profiles(seed, min(_PROFILES, hubs))
    profile_of = rng.integers(0, len(made), size=hubs)
    sizes = np.array([p.steps.size for p in made])
    offset = rng.integers(0, sizes[profile_of])
    return Replay(profiles=made, profile_of=profile_of, offset=offset)
