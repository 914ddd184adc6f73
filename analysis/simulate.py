"""Seeded simulated patient-days (raw samples), for tests, snapshots and benchmarks.

Pure numpy: every draw comes from ``numpy.random.default_rng(seed)``, so the same seed gives the
same samples on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.grid import SECONDS_PER_MINUTE as M
from analysis.grid import MinuteGrid, build_minute_grid

__all__ = ["SimulatedDay", "simulate_days"]

FloatArray = npt.NDArray[np.float64]

SECONDS_PER_DAY = 86_400
#: Heart-rate sample period of the simulated band, seconds (Fitabase data: about every 5–15 s).
HR_PERIOD_S = 10
#: Resting heart rate of simulated patients, mean and spread, beats/min (tunable default).
RESTING_HR_MEAN_BPM, RESTING_HR_SD_BPM = 66.0, 6.0
#: Comfortable walking cadence, steps/min (Tudor-Locke: ≈ 100 steps/min is moderate walking).
WALK_CADENCE_SPM = 100.0
#: Running cadence, steps/min (above the 140 steps/min running threshold).
RUN_CADENCE_SPM = 155.0
#: Recumbent-bike crank cadence, rev/min (tunable default for rehabilitation cycling).
BIKE_RPM = 60.0

# Shape of a simulated day; all of these are tunable defaults of the simulator, chosen to look
# like a recovering patient's day rather than taken from a study.
_DAY_MIN = 1440
_BAND_ON_MIN = (360, 480)  # band put on between 06:00 and 08:00
_BAND_OFF_MIN = (1260, 1380)  # taken off between 21:00 and 23:00
_WALKS_PER_DAY = (1, 4)  # one to three walks (upper bound exclusive)
_SHORTEST_WALK_MIN = 3
_WALK_CADENCE_SD_SPM = 6.0
_WALK_HR_RISE_BPM = (35.0, 4.0)  # mean and spread of the heart-rate rise while walking
_RUN_MIN = 6  # a short run, longer than the 5-minute sustained-running bout
_RUN_END_MARGIN_MIN = 10  # a run starts at least 10 minutes before the band comes off
_RUN_HR_RISE_BPM = 55.0
_RIDE_MIN = (10, 25)
_RIDE_END_MARGIN_MIN = 30  # a ride starts at least 30 minutes before the band comes off
_RIDE_HR_RISE_BPM = 30.0
_BIKE_RPM_SD = 3.0
_BIKE_POWER_W = 40.0
_IDLE_STEPS_MEAN = 4.0  # Poisson mean of steps in a pottering minute
_IDLE_STEP_MINUTE_SHARE = 0.3  # share of idle worn minutes with any steps
_AWAKE_HR_ABOVE_REST_BPM = 8.0
_HR_NOISE_SD_BPM = 3.0
_STEP_REPORT_JITTER_S = 30  # step windows end up to 30 s after the minute boundary


@dataclass(frozen=True, kw_only=True)
class SimulatedDay:
    """Raw samples of one simulated day, shaped like :func:`~analysis.grid.build_minute_grid`'s inputs."""

    day_start_s: int
    n_minutes: int
    samples: dict[str, FloatArray]

    def build_grid(self) -> MinuteGrid:
        """Bin the samples into the day's minute grid."""
        return build_minute_grid(
            day_start_s=self.day_start_s, n_minutes=self.n_minutes, **self.samples
        )


def simulate_days(
    *,
    seed: int,
    n_days: int,
    first_day_start_s: int,
    daily_walk_min: float = 20.0,
    resting_hr_bpm: float | None = None,
    non_wear_day_probability: float = 0.05,
    running_probability: float = 0.0,
    bike_probability: float = 0.2,
) -> list[SimulatedDay]:
    """Simulate consecutive days of one patient.

    Each worn day has the band on from the morning to the evening (with the night off), random
    low-level steps, one to three walks adding up to about ``daily_walk_min`` minutes with heart
    rate raised during them, sometimes a recumbent-bike ride and, rarely, a short run.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``.
    n_days
        Number of consecutive 1,440-minute days.
    first_day_start_s
        Start of the first day, epoch seconds (UTC).
    daily_walk_min
        Mean walking minutes a day.
    resting_hr_bpm
        The patient's resting heart rate (default: drawn around 66 bpm).
    non_wear_day_probability, running_probability, bike_probability
        Chance per day of no wear at all, of a short run, and of a bike ride.

    Returns
    -------
    list of SimulatedDay
        One entry per day, in order.
    """
    rng = np.random.default_rng(seed)
    rest = (
        float(resting_hr_bpm)
        if resting_hr_bpm is not None
        else rng.normal(RESTING_HR_MEAN_BPM, RESTING_HR_SD_BPM)
    )
    days = []
    for d in range(n_days):
        start = first_day_start_s + d * SECONDS_PER_DAY
        days.append(
            _one_day(
                rng,
                start_s=start,
                rest_bpm=rest,
                walk_min=daily_walk_min,
                no_wear=bool(rng.random() < non_wear_day_probability),
                run=bool(rng.random() < running_probability),
                bike=bool(rng.random() < bike_probability),
            )
        )
    return days


def _one_day(
    rng: np.random.Generator,
    *,
    start_s: int,
    rest_bpm: float,
    walk_min: float,
    no_wear: bool,
    run: bool,
    bike: bool,
) -> SimulatedDay:
    """Samples of one day (see :func:`simulate_days`)."""
    n = _DAY_MIN
    worn = np.zeros(n, dtype=bool)
    if not no_wear:
        on, off = int(rng.integers(*_BAND_ON_MIN)), int(rng.integers(*_BAND_OFF_MIN))
        worn[on:off] = True
    cadence = np.zeros(n)
    hr_boost = np.zeros(n)
    if not no_wear:
        on_minutes = np.flatnonzero(worn)
        n_walks = int(rng.integers(*_WALKS_PER_DAY))
        lengths = np.maximum(_SHORTEST_WALK_MIN, rng.poisson(walk_min / n_walks, n_walks))
        for length in lengths:
            s = int(rng.choice(on_minutes[: -int(length) - 1]))
            cadence[s : s + length] = rng.normal(
                WALK_CADENCE_SPM, _WALK_CADENCE_SD_SPM, int(length)
            )
            hr_boost[s : s + length] = rng.normal(*_WALK_HR_RISE_BPM)
        if run:
            s = int(rng.choice(on_minutes[:-_RUN_END_MARGIN_MIN]))
            cadence[s : s + _RUN_MIN] = RUN_CADENCE_SPM
            hr_boost[s : s + _RUN_MIN] = _RUN_HR_RISE_BPM
    bike_minutes = np.zeros(n, dtype=bool)
    if bike and not no_wear:
        s = int(rng.choice(np.flatnonzero(worn)[:-_RIDE_END_MARGIN_MIN]))
        bike_minutes[s : s + int(rng.integers(*_RIDE_MIN))] = True
        hr_boost[bike_minutes] = _RIDE_HR_RISE_BPM
    idle = worn & (cadence == 0) & ~bike_minutes
    steps = np.where(
        idle,
        rng.poisson(_IDLE_STEPS_MEAN, n) * (rng.random(n) < _IDLE_STEP_MINUTE_SHARE),
        np.round(cadence),
    )

    hr_minutes = np.repeat(np.flatnonzero(worn), M // HR_PERIOD_S)
    hr_t = start_s + M * hr_minutes + rng.uniform(0, M, hr_minutes.size)
    hr_t.sort()
    hr_minute_of = ((hr_t - start_s) // M).astype(np.int64)
    hr = (
        rest_bpm
        + _AWAKE_HR_ABOVE_REST_BPM
        + hr_boost[hr_minute_of]
        + rng.normal(0.0, _HR_NOISE_SD_BPM, hr_t.size)
    )

    step_minutes = np.flatnonzero(steps > 0)
    # Bands report steps over short windows ending at arbitrary seconds: 60 s windows, offset.
    steps_end = (
        start_s
        + 60.0 * (step_minutes + 1)
        + rng.integers(0, _STEP_REPORT_JITTER_S, step_minutes.size)
    )
    bike_sec = np.flatnonzero(np.repeat(bike_minutes, M))
    bike_t = start_s + bike_sec.astype(np.float64)
    return SimulatedDay(
        day_start_s=start_s,
        n_minutes=n,
        samples={
            "hr_t_s": hr_t,
            "hr_bpm": np.round(hr),
            "steps_end_t_s": steps_end.astype(np.float64),
            "steps_count": steps[step_minutes].astype(np.float64),
            "steps_interval_s": np.full(step_minutes.size, float(M)),
            "cadence_t_s": np.zeros(0),
            "cadence_spm": np.zeros(0),
            "cadence_running": np.zeros(0),
            "bike_t_s": bike_t,
            "bike_rpm": rng.normal(BIKE_RPM, _BIKE_RPM_SD, bike_t.size),
            "bike_power_w": np.full(bike_t.size, _BIKE_POWER_W),
        },
    )
