"""Walking, biking and running sessions (bouts) detected on a minute grid, vectorised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis._runs import fill_short_gaps, mask_runs
from analysis.activities import DeclaredMasks
from analysis.config import SessionThresholds
from analysis.grid import SECONDS_PER_MINUTE, MinuteGrid

__all__ = ["ActivityMasks", "Session", "SessionKind", "activity_masks", "detect_sessions"]

SessionKind = Literal["walking", "biking", "running"]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Session:
    """One bout of activity.

    Attributes
    ----------
    kind
        ``walking`` | ``biking`` | ``running`` (high impact).
    start_s, end_s
        Start and end (exclusive) of the bout, epoch seconds (UTC), on whole minutes.
    duration_min
        ``(end_s - start_s) / 60``, interruptions included.
    active_minutes
        Minutes at or above the cadence threshold inside the bout.
    running_minutes
        Active minutes with running cadence or the RSC running bit.
    steps
        Steps inside the bout (rounded).
    cadence_mean_per_min, cadence_max_per_min
        Mean and maximum cadence over the active minutes with cadence: steps/min on foot, crank
        revolutions/min on the bike (0 when only a declared activity made them active).
    hr_mean_bpm, hr_max_bpm
        Mean (sample-weighted) and maximum heart rate, beats/min (``None`` without heart rate).
    minutes_above_limit
        Minutes whose mean heart rate is above the patient's limit (``None`` when heart-rate
        rules are off).
    """

    kind: SessionKind
    start_s: int
    end_s: int
    duration_min: int
    active_minutes: int
    running_minutes: int
    steps: int
    cadence_mean_per_min: float
    cadence_max_per_min: float
    hr_mean_bpm: float | None
    hr_max_bpm: float | None
    minutes_above_limit: int | None


@dataclass(frozen=True)
class ActivityMasks:
    """Per-minute activity classes (exclusive: pedalling wins over steps counted on the bike)."""

    foot: BoolArray
    bike: BoolArray
    running: BoolArray


def activity_masks(
    grid: MinuteGrid, *, thresholds: SessionThresholds, declared: DeclaredMasks | None = None
) -> ActivityMasks:
    """Classify each worn minute as on foot, on the bike, and running.

    Parameters
    ----------
    grid
        Minute grid (possibly extended with neighbouring days).
    thresholds
        Session thresholds (cadences in steps/min and rev/min).
    declared
        Minutes inside activities declared by a device (:func:`analysis.activities.
        declared_masks`): they fill in where the kind's own sensor is missing (see
        :mod:`analysis.activities`); ``None``: none.

    Returns
    -------
    ActivityMasks
        Boolean masks, one element per minute.
    """
    with np.errstate(invalid="ignore"):
        bike = grid.worn & (grid.bike_rpm >= thresholds.bike_min_rpm)
        foot = grid.worn & ~bike & (grid.cadence_spm >= thresholds.walk_min_cadence_spm)
        running = foot & ((grid.cadence_spm >= thresholds.running_min_cadence_spm) | grid.running)
    if declared is None:
        return ActivityMasks(foot=foot, bike=bike, running=running)
    # A declared ride pedals where no crank cadence was measured, and wins over its steps.
    bike = bike | (grid.worn & declared.bike & np.isnan(grid.bike_rpm))
    on_foot = declared.walk | declared.run
    foot = (foot | (grid.worn & on_foot & np.isnan(grid.cadence_spm))) & ~bike & ~declared.bike
    # A declared walk is walking at any cadence; the on-foot minutes of a declared run run.
    running = (running & foot & ~declared.walk) | (foot & declared.run)
    return ActivityMasks(foot=foot, bike=bike, running=running)


def detect_sessions(
    grid: MinuteGrid,
    *,
    masks: ActivityMasks,
    thresholds: SessionThresholds,
    limit_bpm: float | None,
    first_minute: int = 0,
    stop_minute: int | None = None,
) -> tuple[Session, ...]:
    """Detect the sessions that start within ``[first_minute, stop_minute)`` of ``grid``.

    A session is a run of active minutes lasting at least ``min_session_min`` minutes in which
    interruptions of up to ``max_gap_min`` minutes are bridged. On-foot sessions whose active
    minutes are mostly running are ``running``. A session is kept whole even when it runs past
    ``stop_minute`` (a session that crosses midnight belongs to the day it started in).

    Parameters
    ----------
    grid
        Minute grid, possibly extended with the end of the day before and the start of the day
        after.
    masks
        Activity classes of ``grid`` (:func:`activity_masks`).
    thresholds
        Session thresholds.
    limit_bpm
        Heart-rate limit, beats/min (``None``: minutes above the limit are not counted).
    first_minute, stop_minute
        Minutes of ``grid`` that belong to the day being analysed.

    Returns
    -------
    tuple of Session
        Sessions sorted by start time.
    """
    stop = grid.n_minutes if stop_minute is None else stop_minute
    found: list[tuple[int, int, bool]] = []
    for is_bike, active in ((False, masks.foot), (True, masks.bike)):
        if not active.any():
            continue
        starts, ends = mask_runs(fill_short_gaps(active, max_gap_min=thresholds.max_gap_min))
        keep = (
            ((ends - starts) >= thresholds.min_session_min)
            & (starts >= first_minute)
            & (starts < stop)
        )
        found.extend(
            (int(s), int(e), is_bike) for s, e in zip(starts[keep], ends[keep], strict=True)
        )
    if not found:
        return ()
    found.sort()
    return _describe(grid, masks, found, thresholds=thresholds, limit_bpm=limit_bpm)


def _describe(
    grid: MinuteGrid,
    masks: ActivityMasks,
    found: list[tuple[int, int, bool]],
    *,
    thresholds: SessionThresholds,
    limit_bpm: float | None,
) -> tuple[Session, ...]:
    """Per-session statistics through prefix sums and ``reduceat`` (no per-minute loop)."""
    starts = np.array([f[0] for f in found], dtype=np.int64)
    ends = np.array([f[1] for f in found], dtype=np.int64)
    is_bike = np.array([f[2] for f in found], dtype=np.bool_)
    # Gather the bouts' minutes into one short array; segment i is bounds[i]:bounds[i + 1].
    lengths = ends - starts
    bounds = np.zeros(starts.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=bounds[1:])
    idx = np.repeat(starts - bounds, lengths) + np.arange(int(lengths.sum()))
    bike_row = np.repeat(is_bike, lengths)
    act = np.where(bike_row, masks.bike[idx], masks.foot[idx])
    cad = np.where(act, np.where(bike_row, grid.bike_rpm[idx], grid.cadence_spm[idx]), np.nan)
    # Minutes active by a declared activity alone have no cadence: the mean is over the others.
    has_cad = np.isfinite(cad)
    cad = np.where(has_cad, cad, 0.0)
    hr_count = grid.hr_count[idx]
    has_hr = hr_count > 0
    hr_mean = grid.hr_mean_bpm[idx]
    n_active = np.add.reduceat(act.astype(np.int64), bounds)
    n_running = np.add.reduceat((masks.running[idx] & ~bike_row).astype(np.int64), bounds)
    cad_sum = np.add.reduceat(cad, bounds)
    cad_n = np.add.reduceat(has_cad.astype(np.int64), bounds)
    cad_max = np.maximum.reduceat(cad, bounds)
    steps = np.add.reduceat(grid.steps[idx], bounds)
    hr_n = np.add.reduceat(hr_count, bounds)
    hr_sum = np.add.reduceat(np.where(has_hr, hr_mean * hr_count, 0.0), bounds)
    hr_max = np.maximum.reduceat(np.where(has_hr, grid.hr_max_bpm[idx], 0.0), bounds)
    above = np.zeros(starts.size, dtype=np.int64)
    if limit_bpm is not None:
        with np.errstate(invalid="ignore"):
            above = np.add.reduceat((hr_mean > limit_bpm).astype(np.int64), bounds)
    sessions = []
    for i in range(starts.size):
        kind: SessionKind = "biking" if is_bike[i] else "walking"
        if not is_bike[i] and n_running[i] >= thresholds.running_session_share * n_active[i]:
            kind = "running"
        sessions.append(
            Session(
                kind=kind,
                start_s=grid.day_start_s + SECONDS_PER_MINUTE * int(starts[i]),
                end_s=grid.day_start_s + SECONDS_PER_MINUTE * int(ends[i]),
                duration_min=int(ends[i] - starts[i]),
                active_minutes=int(n_active[i]),
                running_minutes=int(n_running[i]),
                steps=round(float(steps[i])),
                cadence_mean_per_min=float(cad_sum[i] / cad_n[i]) if cad_n[i] else 0.0,
                cadence_max_per_min=float(cad_max[i]),
                hr_mean_bpm=float(hr_sum[i] / hr_n[i]) if hr_n[i] else None,
                hr_max_bpm=float(hr_max[i]) if hr_n[i] else None,
                minutes_above_limit=int(above[i]) if limit_bpm is not None else None,
            )
        )
    return tuple(sessions)
