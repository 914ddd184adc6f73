"""One source per kind and minute: where two sources cover the same minutes, nothing counts twice.

A patient can have several sources of the same measurement: the hub's band, an imported watch
file, a phone's Apple Health steps. Added up, two sources of one walk would count its steps twice
(and mix two devices' heart rate in one minute's mean). The rule, per kind (steps, heart rate,
walking cadence, bike) and minute:

1. the source (device, sensor) with the most data in that minute wins: steps, the larger count;
   heart rate, cadence and bike, the most samples;
2. a tie goes to the source ranked first (the caller's stable order; the worker ranks devices
   that can upload, the hub's, before revoked ones such as imported files' devices, then by
   device id, then by sensor);
3. only the winner's values of that kind are used for that minute; two sources' values of one
   kind are never added up in one minute. Different kinds may come from different sources.

A minute covered by one source only is unchanged, so a patient with one device gets the grid
the raw samples give.

Per minute rather than per bout: a walk's minutes may come from different sources, which leans
high by the sources' disagreement (the Apple fixture's walk: 2,082 steps against 2,000, 2,024 and
2,054 from each device alone), but one source per contiguous bout lets a coarse record that
covers a walk (a phone's hour, spread evenly) replace the walk's minute-level cadence and lose
its session; the plan judges the session minutes (README, "Import and export").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.errors import InputError

__all__ = ["SourceChoice", "choose_sources"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SourceChoice:
    """Per kind, which rows (one row per source and minute) are used; at most one per minute."""

    steps: BoolArray
    heart_rate: BoolArray
    cadence: BoolArray
    bike: BoolArray


def _winners(
    minute: npt.NDArray[np.int64], rank: npt.NDArray[np.int64], score: npt.ArrayLike
) -> BoolArray:
    score_arr = np.asarray(score)
    has = score_arr > 0
    chosen = np.zeros(len(minute), dtype=bool)
    rows = np.flatnonzero(has)
    if len(rows) == 0:
        return chosen
    # Per minute: the largest score first, then the lowest rank, then the row order (stable).
    order = rows[np.lexsort((rows, rank[rows], -score_arr[rows], minute[rows]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = minute[order][1:] != minute[order][:-1]
    chosen[order[first]] = True
    return chosen


def choose_sources(
    *,
    minute_index: npt.ArrayLike,
    source_rank: npt.ArrayLike,
    steps_nstep: npt.ArrayLike,
    hr_count: npt.ArrayLike,
    cadence_count: npt.ArrayLike,
    bike_rpm_count: npt.ArrayLike,
) -> SourceChoice:
    """Choose one source per kind and minute from per-source minute rows.

    Parameters
    ----------
    minute_index
        The row's minute (any integer axis: minutes since an epoch, or an index into a day).
    source_rank
        The row's source in the caller's stable order (lower wins ties); one value per source.
    steps_nstep
        Steps of the source in that minute (any unit: nano-steps, steps).
    hr_count, cadence_count, bike_rpm_count
        Heart-rate, walking-cadence and bike (crank-cadence) samples of the source in that minute.

    Returns
    -------
    SourceChoice
        Per kind a boolean mask over the rows: the winner of each minute that has data of that kind
        (a row with no data of a kind is never chosen for it).

    Raises
    ------
    InputError
        If the arrays are not one-dimensional of the same length, or a row is repeated (the same
        minute and source twice).
    """
    minute = np.asarray(minute_index)
    rank = np.asarray(source_rank)
    arrays = {
        "minute_index": minute, "source_rank": rank, "steps_nstep": np.asarray(steps_nstep),
        "hr_count": np.asarray(hr_count), "cadence_count": np.asarray(cadence_count),
        "bike_rpm_count": np.asarray(bike_rpm_count),
    }  # fmt: skip
    n = len(minute) if minute.ndim == 1 else -1
    for name, arr in arrays.items():
        if arr.ndim != 1 or len(arr) != n:
            raise InputError(f"{name} must be one-dimensional like minute_index", field=name)
    minute = minute.astype(np.int64)
    rank = rank.astype(np.int64)
    if n > 1:
        order = np.lexsort((rank, minute))
        if np.any((np.diff(minute[order]) == 0) & (np.diff(rank[order]) == 0)):
            raise InputError("a source has two rows for one minute", field="minute_index")
    return SourceChoice(
        steps=_winners(minute, rank, arrays["steps_nstep"]),
        heart_rate=_winners(minute, rank, arrays["hr_count"]),
        cadence=_winners(minute, rank, arrays["cadence_count"]),
        bike=_winners(minute, rank, arrays["bike_rpm_count"]),
    )
