"""Minute grid of one patient-local day, built from raw samples, with wear detection.

Times are epoch seconds (UTC). A day is ``n_minutes`` minutes from ``day_start_s``: 1,440 on most
days, 1,380 or 1,500 when the patient's time zone changes to or from daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis._runs import runs_at_least
from analysis.config import load_thresholds
from analysis.errors import InputError
from analysis.minute_steps import NSTEPS_PER_STEP, spread_steps_nstep

__all__ = ["MinuteGrid", "build_minute_grid", "build_minute_grid_from_minutes", "wear_mask"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_MINUTE = 60
#: Longest day the grid accepts: 25 hours (a day on which daylight saving time ends).
MAX_DAY_MINUTES = 25 * 60


@dataclass(frozen=True)
class MinuteGrid:
    """Per-minute measurements of one patient-local day; every array has ``n_minutes`` elements.

    Attributes
    ----------
    day_start_s
        Start of the day, epoch seconds (UTC).
    n_minutes
        Length of the day in minutes (1,380, 1,440 or 1,500).
    steps
        Steps per minute (``float64``, 0 where none); sub-minute and multi-minute step samples are
        spread over the minutes they overlap, so totals are preserved.
    hr_mean_bpm, hr_max_bpm
        Mean and maximum heart rate per minute, beats/min (``nan`` where no sample).
    hr_count
        Heart-rate samples per minute (``int64``).
    cadence_spm
        Walking cadence, steps/min: mean of cadence samples where present, else the minute's
        steps; ``nan`` where there is neither a cadence sample nor a step.
    running
        ``True`` where a cadence sample in that minute had the RSC "running" bit set.
    bike_rpm
        Mean crank cadence, revolutions/min (``nan`` where none).
    bike_power_w
        Mean power, watts (``nan`` where no power was reported).
    worn
        ``True`` where the band was worn (see :func:`wear_mask`).
    """

    day_start_s: int
    n_minutes: int
    steps: FloatArray
    hr_mean_bpm: FloatArray
    hr_max_bpm: FloatArray
    hr_count: IntArray
    cadence_spm: FloatArray
    running: BoolArray
    bike_rpm: FloatArray
    bike_power_w: FloatArray
    worn: BoolArray

    @property
    def day_end_s(self) -> int:
        """End of the day (exclusive), epoch seconds (UTC)."""
        return self.day_start_s + SECONDS_PER_MINUTE * self.n_minutes


def wear_mask(
    *, hr_count: IntArray, steps: FloatArray, min_gap_min: int | None = None
) -> BoolArray:
    """Classify each minute as worn or not.

    A minute with heart rate or at least one step is worn. A run of ``min_gap_min`` minutes or
    more with neither is non-wear (missing data); shorter runs are worn (inactive, not missing),
    wherever they sit in the day.

    Parameters
    ----------
    hr_count
        Heart-rate samples per minute.
    steps
        Steps per minute.
    min_gap_min
        Shortest run of empty minutes that counts as non-wear, in minutes; default: the
        packaged ``thresholds.json`` (60 minutes).

    Returns
    -------
    numpy.ndarray
        Boolean worn mask, one element per minute.
    """
    gap_min = (
        min_gap_min if min_gap_min is not None else load_thresholds().wear.non_wear_min_gap_min
    )
    empty = (hr_count == 0) & ~(steps > 0)
    return ~runs_at_least(empty, min_length_min=gap_min)


def build_minute_grid(
    *,
    day_start_s: int,
    n_minutes: int,
    hr_t_s: npt.ArrayLike,
    hr_bpm: npt.ArrayLike,
    steps_end_t_s: npt.ArrayLike,
    steps_count: npt.ArrayLike,
    steps_interval_s: npt.ArrayLike,
    cadence_t_s: npt.ArrayLike,
    cadence_spm: npt.ArrayLike,
    cadence_running: npt.ArrayLike,
    bike_t_s: npt.ArrayLike,
    bike_rpm: npt.ArrayLike,
    bike_power_w: npt.ArrayLike,
) -> MinuteGrid:
    """Bin one day's raw samples into a :class:`MinuteGrid`.

    Samples outside ``[day_start_s, day_start_s + 60 * n_minutes)`` are ignored. A steps sample
    counts the steps in ``(t - interval_s, t]``; they are spread over the minutes that interval
    overlaps in proportion to the overlap, so the part of a sample that falls before the day (the
    service passes a margin) is dropped and the day's total equals the sum of its minutes.
    Non-finite values (``nan`` power of a bike without a power meter, for instance) are ignored.

    Parameters
    ----------
    day_start_s
        Start of the patient-local day, epoch seconds (UTC).
    n_minutes
        Length of the day in minutes (1 … 1,500).
    hr_t_s, hr_bpm
        Heart-rate sample times (epoch s) and values (beats/min).
    steps_end_t_s, steps_count, steps_interval_s
        Steps sample end times (epoch s), step counts and interval lengths (s, > 0).
    cadence_t_s, cadence_spm, cadence_running
        Walking/running cadence sample times (epoch s), cadence (steps/min) and the RSC running
        bit (boolean).
    bike_t_s, bike_rpm, bike_power_w
        Bike sample times (epoch s), crank cadence (revolutions/min) and power (W, ``nan`` when
        not reported).

    Returns
    -------
    MinuteGrid
        The day's minute grid, with wear detected.

    Raises
    ------
    InputError
        If ``n_minutes`` is out of range, an array is not one-dimensional, paired arrays differ
        in length, or a steps interval is not positive.
    """
    if isinstance(n_minutes, bool) or not 1 <= int(n_minutes) <= MAX_DAY_MINUTES:
        raise InputError(
            f"n_minutes must be 1 … {MAX_DAY_MINUTES}, got {n_minutes!r}", field="n_minutes"
        )
    n = int(n_minutes)
    start = int(day_start_s)
    hr_t, hr_v = _paired("hr", hr_t_s=hr_t_s, hr_bpm=hr_bpm)
    st_t, st_c, st_i = _paired(
        "steps",
        steps_end_t_s=steps_end_t_s,
        steps_count=steps_count,
        steps_interval_s=steps_interval_s,
    )
    ca_t, ca_v, ca_r = _paired(
        "cadence", cadence_t_s=cadence_t_s, cadence_spm=cadence_spm, cadence_running=cadence_running
    )
    bk_t, bk_rpm, bk_pw = _paired(
        "bike", bike_t_s=bike_t_s, bike_rpm=bike_rpm, bike_power_w=bike_power_w
    )
    if np.any(st_i[np.isfinite(st_c)] <= 0):
        raise InputError("steps_interval_s must be > 0", field="steps_interval_s")

    hr_idx, hr_ok = _minute_index(hr_t, start, n, hr_v)
    hr_count = np.bincount(hr_idx[hr_ok], minlength=n).astype(np.int64)
    hr_max = np.full(n, -np.inf)
    np.maximum.at(hr_max, hr_idx[hr_ok], hr_v[hr_ok])
    ca_idx, ca_ok = _minute_index(ca_t, start, n, ca_v)
    run_idx, run_ok = _minute_index(ca_t, start, n, ca_r)
    rpm_idx, rpm_ok = _minute_index(bk_t, start, n, bk_rpm)
    pw_idx, pw_ok = _minute_index(bk_t, start, n, bk_pw)
    return build_minute_grid_from_minutes(
        day_start_s=start,
        n_minutes=n,
        hr_count=hr_count,
        hr_sum_bpm=np.bincount(hr_idx[hr_ok], weights=hr_v[hr_ok], minlength=n),
        hr_max_bpm=hr_max,
        steps=_spread_steps(st_t - start, st_c, st_i, n),
        cadence_count=np.bincount(ca_idx[ca_ok], minlength=n),
        cadence_sum_spm=np.bincount(ca_idx[ca_ok], weights=ca_v[ca_ok], minlength=n),
        running=np.bincount(run_idx[run_ok], weights=(ca_r[run_ok] != 0), minlength=n) > 0,
        bike_rpm_count=np.bincount(rpm_idx[rpm_ok], minlength=n),
        bike_rpm_sum=np.bincount(rpm_idx[rpm_ok], weights=bk_rpm[rpm_ok], minlength=n),
        bike_power_count=np.bincount(pw_idx[pw_ok], minlength=n),
        bike_power_sum_w=np.bincount(pw_idx[pw_ok], weights=bk_pw[pw_ok], minlength=n),
    )


def build_minute_grid_from_minutes(
    *,
    day_start_s: int,
    n_minutes: int,
    hr_count: npt.ArrayLike,
    hr_sum_bpm: npt.ArrayLike,
    hr_max_bpm: npt.ArrayLike,
    steps: npt.ArrayLike,
    cadence_count: npt.ArrayLike,
    cadence_sum_spm: npt.ArrayLike,
    running: npt.ArrayLike,
    bike_rpm_count: npt.ArrayLike,
    bike_rpm_sum: npt.ArrayLike,
    bike_power_count: npt.ArrayLike,
    bike_power_sum_w: npt.ArrayLike,
) -> MinuteGrid:
    """A :class:`MinuteGrid` from per-minute counts and sums (minute rollups, for instance).

    :func:`build_minute_grid` bins raw samples into these arrays and calls this function, so a
    grid built from rollups that hold the same counts and sums is identical to it.

    Parameters
    ----------
    day_start_s, n_minutes
        As for :func:`build_minute_grid`; every array has ``n_minutes`` elements.
    hr_count, hr_sum_bpm, hr_max_bpm
        Heart-rate samples per minute, the sum of their values and the highest (beats/min;
        ignored where the count is 0).
    steps
        Steps per minute (spread as :func:`~analysis.minute_steps.spread_steps_nstep` does).
    cadence_count, cadence_sum_spm, running
        Cadence samples per minute, the sum of their values (steps/min) and whether one had the
        running bit set.
    bike_rpm_count, bike_rpm_sum, bike_power_count, bike_power_sum_w
        Bike samples per minute with crank cadence (revolutions/min) and with power (W), and the
        sums of those values.

    Returns
    -------
    MinuteGrid
        The day's minute grid, with wear detected.

    Raises
    ------
    InputError
        If ``n_minutes`` is out of range or an array does not have ``n_minutes`` elements.
    """
    if isinstance(n_minutes, bool) or not 1 <= int(n_minutes) <= MAX_DAY_MINUTES:
        raise InputError(
            f"n_minutes must be 1 … {MAX_DAY_MINUTES}, got {n_minutes!r}", field="n_minutes"
        )
    n = int(n_minutes)
    arrays = {
        name: np.asarray(value)
        for name, value in (
            ("hr_count", hr_count), ("hr_sum_bpm", hr_sum_bpm), ("hr_max_bpm", hr_max_bpm),
            ("steps", steps), ("cadence_count", cadence_count),
            ("cadence_sum_spm", cadence_sum_spm), ("running", running),
            ("bike_rpm_count", bike_rpm_count), ("bike_rpm_sum", bike_rpm_sum),
            ("bike_power_count", bike_power_count), ("bike_power_sum_w", bike_power_sum_w),
        )
    }  # fmt: skip
    for name, arr in arrays.items():
        if arr.shape != (n,):
            raise InputError(f"{name} must have {n} elements, got shape {arr.shape}", field=name)
    count = arrays["hr_count"].astype(np.int64)
    hr_mean = _mean(arrays["hr_sum_bpm"], count)
    hr_max = np.where(count > 0, arrays["hr_max_bpm"].astype(np.float64), np.nan)
    steps_min = arrays["steps"].astype(np.float64)
    ca_count = arrays["cadence_count"].astype(np.int64)
    cadence = _mean(arrays["cadence_sum_spm"], ca_count)
    from_steps = (ca_count == 0) & (steps_min > 0)
    cadence[from_steps] = steps_min[from_steps]
    return MinuteGrid(
        day_start_s=int(day_start_s),
        n_minutes=n,
        steps=steps_min,
        hr_mean_bpm=hr_mean,
        hr_max_bpm=hr_max,
        hr_count=count,
        cadence_spm=cadence,
        running=arrays["running"].astype(bool),
        bike_rpm=_mean(arrays["bike_rpm_sum"], arrays["bike_rpm_count"].astype(np.int64)),
        bike_power_w=_mean(arrays["bike_power_sum_w"], arrays["bike_power_count"].astype(np.int64)),
        worn=wear_mask(hr_count=count, steps=steps_min),
    )


def _paired(group: str, **arrays: npt.ArrayLike) -> list[FloatArray]:
    """Convert paired inputs to 1-D ``float64`` arrays of one length, naming the field on error."""
    out: list[FloatArray] = []
    for name, value in arrays.items():
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be numeric", field=name) from exc
        if arr.ndim != 1:
            raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}", field=name)
        if out and arr.size != out[0].size:
            raise InputError(
                f"{group} arrays differ in length: {name} has {arr.size}, expected {out[0].size}",
                field=name,
            )
        out.append(arr)
    return out


def _minute_index(
    t_s: FloatArray, start_s: int, n: int, values: FloatArray
) -> tuple[IntArray, BoolArray]:
    """Minute index of each sample and a mask of samples inside the day with a finite value."""
    rel = np.floor((t_s - start_s) / SECONDS_PER_MINUTE)
    ok = np.isfinite(rel) & (rel >= 0) & (rel < n) & np.isfinite(values)
    idx = np.where(ok, rel, 0).astype(np.int64)
    return idx, ok


def _mean(sums: npt.ArrayLike, counts: npt.NDArray[np.int64]) -> FloatArray:
    """Mean per minute from sums and counts, ``nan`` where a minute has no sample."""
    total = np.asarray(sums, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _spread_steps(
    end_rel_s: FloatArray, count: FloatArray, interval_s: FloatArray, n: int
) -> FloatArray:
    """Spread each steps sample over the minutes its interval ``(t - interval, t]`` overlaps.

    ``end_rel_s`` is relative to the day start. Samples the wire format can carry (whole steps,
    whole-second intervals, times to the microsecond) are spread in exact integer nano-steps
    by :func:`~analysis.minute_steps.spread_steps_nstep`, the same shares the ingest's minute
    rollups store; any other input (fractional counts from other callers) keeps a float spread.
    """
    ok = np.isfinite(end_rel_s) & np.isfinite(count) & (count > 0) & (interval_s > 0)
    # Bounds that keep steps · interval · 1e9 and the µs times far inside int64.
    exact = (
        ok
        & (count == np.round(count))
        & (interval_s == np.round(interval_s))
        & (count * interval_s < _EXACT_MAX_STEP_SECONDS)
        & (np.abs(end_rel_s) < _EXACT_MAX_REL_S)
    )
    out = np.zeros(n, dtype=np.float64)
    if np.any(exact):
        _, minute, nstep = spread_steps_nstep(
            end_us=np.rint(end_rel_s[exact] * 1e6).astype(np.int64),
            steps=count[exact].astype(np.int64),
            interval_s=interval_s[exact].astype(np.int64),
            first_minute=0,
            n_minutes=n,
        )
        out = np.bincount(minute, weights=nstep, minlength=n) / NSTEPS_PER_STEP
    rest = ok & ~exact
    if np.any(rest):
        out = out + _spread_steps_float(end_rel_s[rest], count[rest], interval_s[rest], n)
    return out


# 4e9 step·seconds (· 1e9 < 2**62) and 1e9 s (~31 years) from the day start: far beyond any real
# sample (wire: ≤ 14,400 steps over ≤ 3,600 s), so only absurd input takes the float path.
_EXACT_MAX_STEP_SECONDS = 4e9
_EXACT_MAX_REL_S = 1e9


def _spread_steps_float(
    end_rel_s: FloatArray, count: FloatArray, interval_s: FloatArray, n: int
) -> FloatArray:
    """The float spread of samples with positive finite values that integers cannot carry.

    Each sample contributes ``count * overlap / interval`` to a minute: exact partial shares to
    its first and last minute, and full-minute shares to the minutes in between through a
    difference array (no per-minute loop).
    """
    day_s = float(n * SECONDS_PER_MINUTE)
    ok = np.ones(end_rel_s.size, dtype=bool)
    x1 = np.clip(end_rel_s[ok], 0.0, day_s)
    x0 = np.clip(end_rel_s[ok] - interval_s[ok], 0.0, day_s)
    c = count[ok]
    span = interval_s[ok]
    keep = x1 > x0
    x0, x1, c, span = x0[keep], x1[keep], c[keep], span[keep]
    first = np.floor(x0 / SECONDS_PER_MINUTE).astype(np.int64)
    last = np.ceil(x1 / SECONDS_PER_MINUTE).astype(np.int64) - 1
    single = first == last
    out = np.zeros(n, dtype=np.float64)
    out += np.bincount(
        first[single], weights=c[single] * (x1[single] - x0[single]) / span[single], minlength=n
    )
    multi = ~single
    if np.any(multi):
        f, la = first[multi], last[multi]
        cm, sm = c[multi], span[multi]
        head = cm * ((f + 1) * SECONDS_PER_MINUTE - x0[multi]) / sm
        tail = cm * (x1[multi] - la * SECONDS_PER_MINUTE) / sm
        out += np.bincount(f, weights=head, minlength=n)
        out += np.bincount(la, weights=tail, minlength=n)
        per_minute = cm * SECONDS_PER_MINUTE / sm
        diff = np.bincount(f + 1, weights=per_minute, minlength=n + 1)
        diff -= np.bincount(la, weights=per_minute, minlength=n + 1)
        out += np.cumsum(diff[:n])
        # The running sum leaves rounding residue (~1e-13) where the true value is 0; clear it so
        # that "has steps" stays exact (0.001 step is far below any real count: tunable default).
        out[np.abs(out) < 1e-3] = 0.0
    return out
