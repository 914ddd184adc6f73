"""One simulated patient-day: 1 Hz heart rate, per-minute steps, treadmill cadence, bike rides."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collector.simulator._profiles import DEFAULT_PROFILE, PatientProfile
from collector.simulator._recovery import (
    recovery_progress,
    steps_fraction_of_baseline,
    walk_cadence_spm,
    walk_hrr_fraction,
)
from collector.simulator._timeline import draw_timeline
from collector.wire import (
    BikeSample,
    CadenceSample,
    encode_heart_rate_series,
    encode_sample,
    encode_steps_series,
)

__all__ = ["SimulatedDay", "simulate_day"]

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

_S_PER_MIN = 60
# Exponential kernels are cut at 5 time constants, where they have fallen below 1 % (e^−5).
_KERNEL_TAUS = 5
# A local day lasts 23 to 25 hours (DST changes); nothing longer is a day.
_MAX_DAY_MINUTES = 25 * 60
# Tunable default: the day's total steps vary ±20 % (log-normal) around the recovery curve.
_STEPS_LOG_SD = 0.2
# Tunable default: walking that is not a planned walk (household, errands) happens in about a
# third of the awake, worn, otherwise idle minutes, with gamma-distributed intensity, ≤ 90 steps/min.
_P_ACTIVE_MINUTE = 0.35
_ACTIVE_GAMMA_SHAPE = 0.8
_INCIDENTAL_MAX_STEPS = 90
# Tunable default: at least 15 % of the day's steps are incidental, however much was walked.
_MIN_INCIDENTAL_SHARE = 0.15
# Tunable default: cadence varies 5 % between walks and ±3 steps/min between minutes.
_CADENCE_BOUT_CV, _CADENCE_MINUTE_SD_SPM = 0.05, 3.0
# Heart rate offsets from resting, bpm (tunable defaults): asleep about 4 below resting, awake and
# idle 10 above, incidental steps add 0.25 bpm per step/min up to 30 bpm.
_SLEEP_HR_OFFSET, _AWAKE_HR_OFFSET = -4.0, 10.0
_HR_PER_STEP_PER_MIN, _MAX_INCIDENTAL_HR_RISE = 0.25, 30.0
# Tunable default: a ride works about 5 % of heart-rate reserve harder than the day's walks.
_RIDE_EXTRA_HRR = 0.05
# Heart-rate on-kinetics: first-order response with a ≈ 30 s time constant (tunable default, of
# the order reported for moderate exercise onset); slower ±3 bpm drift with a 60 s time constant
# and ±1 bpm beat-to-beat noise (tunable defaults).
_HR_TAU_S, _DRIFT_TAU_S, _DRIFT_SD_BPM, _BEAT_SD_BPM = 30.0, 60.0, 3.0, 1.0
# Reported range of the simulated band; the wire allows 20–250 bpm (WIRE_FORMAT.md).
_HR_RANGE_BPM = (40, 200)
# Tunable defaults for stationary-bike rides: 55 rpm at 35 W early, up to 65 rpm at 60 W, with
# ±4 rpm drift, and about 0.8 W per rpm of deviation (light-resistance recumbent bike).
_RIDE_RPM, _RIDE_POWER_W, _RIDE_RPM_SD, _W_PER_RPM = (55.0, 65.0), (35.0, 60.0), 4.0, 0.8
# Tunable default: the band counts 0–3 steps a minute from arm movement while cycling.
_RIDE_STEPS_RANGE = (0, 4)


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedDay:
    """Samples of one simulated day, as the collector would receive them, plus the ground truth.

    Times are epoch seconds UTC. ``steps`` holds one count per worn minute for
    ``(steps_t_s − 60, steps_t_s]``. The ``*_by_minute`` masks (length ``n_minutes``) are the
    truth the samples were generated from: asleep, band worn, walking, riding.
    """

    day_start_s: int
    n_minutes: int
    stage_week: float
    hr_t_s: F64
    hr_bpm: I32
    steps_t_s: F64
    steps: I32
    cadence_t_s: F64
    cadence_spm: F64
    bike_t_s: F64
    bike_rpm: F64
    bike_power_w: I32
    sleep_by_minute: BoolArray
    wear_by_minute: BoolArray
    walk_by_minute: BoolArray
    ride_by_minute: BoolArray

    def __post_init__(self) -> None:
        for value in (getattr(self, name) for name in self.__dataclass_fields__):
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def total_steps(self) -> int:
        """Steps the band reported over the day."""
        return int(self.steps.sum())

    @property
    def walk_minutes(self) -> int:
        """Minutes of deliberate walking."""
        return int(self.walk_by_minute.sum())

    @property
    def n_samples(self) -> int:
        """Samples of every kind."""
        return self.hr_t_s.size + self.steps_t_s.size + self.cadence_t_s.size + self.bike_t_s.size

    def encoded(self) -> tuple[list[float], list[bytes]]:
        """Sample times and wire-encoded bodies, ready for ``Outbox.append_encoded``."""
        bodies = encode_heart_rate_series(self.hr_t_s, self.hr_bpm)
        bodies += encode_steps_series(self.steps_t_s, self.steps, interval_s=_S_PER_MIN)
        bodies += [
            encode_sample(CadenceSample(t_s=t, spm=s, running=False))
            for t, s in zip(self.cadence_t_s.tolist(), self.cadence_spm.tolist(), strict=True)
        ]
        bodies += [
            encode_sample(BikeSample(t_s=t, rpm=r, power_w=p))
            for t, r, p in zip(
                self.bike_t_s.tolist(),
                self.bike_rpm.tolist(),
                self.bike_power_w.tolist(),
                strict=True,
            )
        ]
        times = np.concatenate([self.hr_t_s, self.steps_t_s, self.cadence_t_s, self.bike_t_s])
        return times.tolist(), bodies


def _lag(x: F64, tau_s: float) -> F64:
    """Causal first-order low-pass (time constant ``tau_s`` at 1 Hz) by exponential convolution."""
    kernel = np.exp(-np.arange(int(_KERNEL_TAUS * tau_s)) / tau_s)
    kernel /= kernel.sum()
    padded = np.concatenate([np.full(kernel.size - 1, x[0]), x])
    return np.convolve(padded, kernel, mode="valid")


def _drift(rng: np.random.Generator, n: int, tau_s: float, sd: float) -> F64:
    """Zero-mean correlated noise with standard deviation ``sd`` and time constant ``tau_s``."""
    kernel = np.exp(-np.arange(int(_KERNEL_TAUS * tau_s)) / tau_s)
    kernel *= sd / np.sqrt(np.sum(kernel**2))
    return np.convolve(rng.standard_normal(n + kernel.size - 1), kernel, mode="valid")


def _mask(n: int, spans: tuple[tuple[int, int], ...]) -> BoolArray:
    mask = np.zeros(n, dtype=np.bool_)
    for start, length in spans:
        mask[start : start + length] = True
    return mask


def simulate_day(
    *,
    day_start_s: int,
    n_minutes: int,
    stage_week: float,
    baseline_steps_per_day: int,
    rng: np.random.Generator,
    hr_interval_s: int = 1,
    profile: PatientProfile = DEFAULT_PROFILE,
) -> SimulatedDay:
    """Simulate one patient-local day at the given recovery stage.

    Parameters
    ----------
    day_start_s
        Local midnight as epoch seconds UTC.
    n_minutes
        Length of the local day in minutes (1,380–1,500 across DST changes, 1,440 otherwise).
    stage_week
        Recovery week, 1-based and fractional (1.0 is the day after surgery; below 1 is before
        surgery).
    baseline_steps_per_day
        The patient's pre-surgery daily steps; the day's steps follow the recovery curve from it.
    rng
        Source of every random draw (``np.random.default_rng(seed)``).
    hr_interval_s
        Seconds between heart-rate (and bike, cadence) samples; 1 is the band's 1 Hz.
    profile
        Resting and maximal heart rate in bpm; its own baseline steps are not used here.
    """
    if not 1 <= n_minutes <= _MAX_DAY_MINUTES:
        raise ValueError(f"n_minutes must be 1 … {_MAX_DAY_MINUTES}, got {n_minutes}")
    if not 1 <= hr_interval_s <= _S_PER_MIN:
        raise ValueError(f"hr_interval_s must be 1 … {_S_PER_MIN}, got {hr_interval_s}")
    if baseline_steps_per_day < 0:
        raise ValueError(f"baseline_steps_per_day must be ≥ 0, got {baseline_steps_per_day}")
    tl = draw_timeline(n_minutes=n_minutes, stage_week=stage_week, rng=rng)
    walk = _mask(n_minutes, tl.walks)
    ride = _mask(n_minutes, () if tl.ride is None else (tl.ride,))

    steps = np.zeros(n_minutes, dtype=np.int32)
    cadence_by_walk = walk_cadence_spm(stage_week) * (
        1 + _CADENCE_BOUT_CV * rng.standard_normal(len(tl.walks))
    )
    for (start, length), cadence in zip(tl.walks, cadence_by_walk, strict=True):
        per_min = cadence + _CADENCE_MINUTE_SD_SPM * rng.standard_normal(length)
        per_min[[0, -1]] *= 0.5  # a walk starts and ends part-way through a minute
        steps[start : start + length] = np.maximum(np.round(per_min), 0).astype(np.int32)
    steps[ride] = rng.integers(*_RIDE_STEPS_RANGE, size=int(ride.sum()))
    # A slow recoverer's steps follow the curve at ``recovery_pace`` of its speed after surgery.
    steps_week = stage_week if stage_week < 1 else 1 + (stage_week - 1) * profile.recovery_pace
    target = baseline_steps_per_day * steps_fraction_of_baseline(steps_week)
    target *= np.exp(rng.normal(0.0, _STEPS_LOG_SD))
    incidental = int(max(target - steps.sum(), _MIN_INCIDENTAL_SHARE * target))
    idle = tl.wear & ~tl.sleep & ~walk & ~ride
    weights = np.where(
        idle & (rng.random(n_minutes) < _P_ACTIVE_MINUTE),
        rng.gamma(_ACTIVE_GAMMA_SHAPE, size=n_minutes),
        0.0,
    )
    if incidental > 0 and weights.sum() > 0:
        counts = rng.multinomial(incidental, weights / weights.sum())
        steps += np.minimum(counts, _INCIDENTAL_MAX_STEPS).astype(np.int32)

    rest, reserve = profile.resting_hr_bpm, profile.hr_reserve_bpm
    hr_min = np.where(tl.sleep, rest + _SLEEP_HR_OFFSET, rest + _AWAKE_HR_OFFSET)
    hr_min += np.where(idle, np.minimum(_HR_PER_STEP_PER_MIN * steps, _MAX_INCIDENTAL_HR_RISE), 0.0)
    walk_hrr = walk_hrr_fraction(stage_week)
    hr_min[walk] = rest + walk_hrr * reserve
    hr_min[ride] = rest + (walk_hrr + _RIDE_EXTRA_HRR) * reserve
    n_s = n_minutes * _S_PER_MIN
    hr_s = _lag(np.repeat(hr_min, _S_PER_MIN), _HR_TAU_S)
    hr_s += _drift(rng, n_s, _DRIFT_TAU_S, _DRIFT_SD_BPM)
    hr_s += _BEAT_SD_BPM * rng.standard_normal(n_s)

    # Notifications arrive at a fixed sub-second phase of the band's clock (whole milliseconds).
    phase_s = int(rng.integers(0, 1000)) / 1000
    sec = np.arange(0, n_s, hr_interval_s)
    worn = np.repeat(tl.wear, _S_PER_MIN)[sec]
    hr_sec = sec[worn]
    hr_bpm = np.clip(np.round(hr_s[hr_sec]), *_HR_RANGE_BPM).astype(np.int32)

    stage_mix = recovery_progress(stage_week)
    rpm_mean = _RIDE_RPM[0] + (_RIDE_RPM[1] - _RIDE_RPM[0]) * stage_mix
    power_mean_w = _RIDE_POWER_W[0] + (_RIDE_POWER_W[1] - _RIDE_POWER_W[0]) * stage_mix
    ride_sec = sec[np.repeat(ride, _S_PER_MIN)[sec]]
    rpm = np.full(ride_sec.size, rpm_mean)
    if ride_sec.size:
        rpm = np.clip(rpm + _drift(rng, ride_sec.size, _DRIFT_TAU_S, _RIDE_RPM_SD), 0, 250)
    power = np.round(np.clip(power_mean_w + _W_PER_RPM * (rpm - rpm_mean), 0, 3000))

    cadence_t = np.empty(0, dtype=np.float64)
    cadence_spm = np.empty(0, dtype=np.float64)
    if tl.treadmill_walk is not None:
        start, length = tl.walks[tl.treadmill_walk]
        tread = sec[(sec >= start * _S_PER_MIN) & (sec < (start + length) * _S_PER_MIN)]
        cadence_t = (day_start_s + tread + phase_s).astype(np.float64)
        spm = cadence_by_walk[tl.treadmill_walk] + rng.standard_normal(tread.size)
        cadence_spm = np.round(spm, 1)

    worn_min = np.flatnonzero(tl.wear)
    return SimulatedDay(
        day_start_s=day_start_s,
        n_minutes=n_minutes,
        stage_week=stage_week,
        hr_t_s=(day_start_s + hr_sec + phase_s).astype(np.float64),
        hr_bpm=hr_bpm,
        steps_t_s=(day_start_s + (worn_min + 1) * _S_PER_MIN).astype(np.float64),
        steps=steps[worn_min],
        cadence_t_s=cadence_t,
        cadence_spm=cadence_spm,
        bike_t_s=(day_start_s + ride_sec + phase_s).astype(np.float64),
        bike_rpm=np.round(rpm, 1),
        bike_power_w=power.astype(np.int32),
        sleep_by_minute=tl.sleep,
        wear_by_minute=tl.wear,
        walk_by_minute=walk,
        ride_by_minute=ride,
    )
