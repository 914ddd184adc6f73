"""Run-length helpers over boolean minute masks (vectorised, no per-minute Python loops)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["fill_short_gaps", "mask_runs", "max_run_length", "runs_at_least"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def mask_runs(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Return the half-open ``[start, end)`` minute indices of every run of ``True`` in ``mask``.

    Parameters
    ----------
    mask
        One-dimensional boolean array (one element per minute).

    Returns
    -------
    starts, ends
        ``int64`` arrays of equal length; run ``i`` covers ``mask[starts[i]:ends[i]]``.
    """
    padded = np.zeros(mask.size + 2, dtype=np.int8)
    padded[1:-1] = mask
    edges = np.flatnonzero(np.diff(padded))
    return edges[0::2].astype(np.int64), edges[1::2].astype(np.int64)


def runs_at_least(mask: BoolArray, *, min_length_min: int) -> BoolArray:
    """Keep only the runs of ``True`` that last at least ``min_length_min`` minutes.

    Parameters
    ----------
    mask
        One-dimensional boolean array.
    min_length_min
        Minimum run length, in minutes (elements).

    Returns
    -------
    numpy.ndarray
        Boolean array, ``True`` inside the runs that were long enough.
    """
    starts, ends = mask_runs(mask)
    keep = (ends - starts) >= min_length_min
    return _paint(mask.size, starts[keep], ends[keep])


def fill_short_gaps(mask: BoolArray, *, max_gap_min: int) -> BoolArray:
    """Set to ``True`` every interior run of ``False`` no longer than ``max_gap_min`` minutes.

    Gaps that touch either end of the array are not interior and stay ``False``.

    Parameters
    ----------
    mask
        One-dimensional boolean array.
    max_gap_min
        Longest gap to bridge, in minutes.

    Returns
    -------
    numpy.ndarray
        Boolean array with the short interior gaps filled.
    """
    starts, ends = mask_runs(~mask)
    interior = (starts > 0) & (ends < mask.size) & ((ends - starts) <= max_gap_min)
    return mask | _paint(mask.size, starts[interior], ends[interior])


def max_run_length(mask: BoolArray) -> int:
    """Return the length in minutes of the longest run of ``True`` (0 when there is none)."""
    starts, ends = mask_runs(mask)
    return int((ends - starts).max()) if starts.size else 0


def _paint(size: int, starts: IntArray, ends: IntArray) -> BoolArray:
    """Boolean array of ``size`` elements, ``True`` inside the half-open runs given."""
    diff = np.zeros(size + 1, dtype=np.int64)
    # Runs are disjoint and separated, so starts (and ends) are unique: fancy indexing is exact.
    diff[starts] += 1
    diff[ends] -= 1
    return np.cumsum(diff[:-1]) > 0
