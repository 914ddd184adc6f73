"""Activities declared in a file (a ride, a walk, a run) as per-minute masks for session detection.

A watch or bike computer records what the patient said they were doing: an Apple Watch cycling
workout, a FIT ``cycling`` session, a TCX ``Biking`` activity. Such a declared activity informs
session detection where the sensors of its kind are missing, and its measurement decides where
they are present:

- a declared **ride**: a worn minute inside it without crank cadence counts as pedalling (a
  watch with heart rate only, a ride without a cadence sensor); a minute with crank cadence is
  judged by it as before (freewheeling stays inactive). Steps counted in a declared ride are the
  arm swing on the handlebar: the ride wins over them, as pedalling already does;
- a declared **walk** or **run**: a worn minute inside it without steps or walking cadence counts
  as on foot; a declared walk is never running (a brisk walk's cadence can reach the running
  threshold), and the on-foot minutes of a declared run are running.

A minute is inside an activity when at least half of it is (a FIT session from 12:11:14 for
2,625 s covers the 44 minutes 12:11 to 12:54). Minutes that are not worn (no heart rate and
no steps for an hour or more, :func:`analysis.wear_mask`) never count, whatever was declared: the
analysis counts measured minutes only. A day without declared activities is analysed exactly as
before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis.errors import InputError
from analysis.grid import SECONDS_PER_MINUTE, MinuteGrid

__all__ = ["ACTIVITY_KINDS", "ActivityKind", "DeclaredActivity", "DeclaredMasks", "declared_masks"]

ActivityKind = Literal["walk", "bike", "run"]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = ("walk", "bike", "run")
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class DeclaredActivity:
    """One activity declared by a device: its kind and its interval, epoch seconds (UTC)."""

    kind: ActivityKind
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if self.kind not in ACTIVITY_KINDS:
            raise InputError(f"activity kind must be one of {ACTIVITY_KINDS}", field="kind")
        if not self.end_s > self.start_s:
            raise InputError("an activity must end after it starts", field="end_s")


@dataclass(frozen=True)
class DeclaredMasks:
    """Per-minute masks of a grid: minutes inside a declared walk, ride or run."""

    walk: BoolArray
    bike: BoolArray
    run: BoolArray


def declared_masks(
    grid: MinuteGrid, *, activities: Sequence[DeclaredActivity]
) -> DeclaredMasks | None:
    """The minutes of ``grid`` inside each kind of declared activity.

    Parameters
    ----------
    grid
        Minute grid (possibly extended with neighbouring days).
    activities
        Declared activities, any order; those outside the grid are ignored.

    Returns
    -------
    DeclaredMasks or None
        ``None`` when no activity touches the grid (the analysis then runs as without any).
    """
    n = grid.n_minutes
    diff = {kind: np.zeros(n + 1, dtype=np.int64) for kind in ACTIVITY_KINDS}
    touched = False
    for activity in activities:
        # Half-up rounding of both ends: the minutes at least half inside the activity.
        first = int(np.floor((activity.start_s - grid.day_start_s) / SECONDS_PER_MINUTE + 0.5))
        stop = int(np.floor((activity.end_s - grid.day_start_s) / SECONDS_PER_MINUTE + 0.5))
        first, stop = max(first, 0), min(stop, n)
        if first >= stop:
            continue
        touched = True
        diff[activity.kind][first] += 1
        diff[activity.kind][stop] -= 1
    if not touched:
        return None
    inside = {kind: np.cumsum(d[:n]) > 0 for kind, d in diff.items()}
    return DeclaredMasks(walk=inside["walk"], bike=inside["bike"], run=inside["run"])
