"""Steps samples spread over minutes in exact integer nano-steps.

A steps sample counts ``steps`` in ``(end − interval, end]``; minute ``k`` of a time axis in
microseconds covers ``[60e6·k, 60e6·(k + 1))``. The steps counted up to time ``b`` (µs) are
``F(b) = steps · clip(b − start, 0, interval_us) · 1000 / interval_s`` nano-steps (1e-9 step),
rounded to the nearest, and minute ``k`` gets ``F(its end) − F(its start)``. Every share is an integer,
so a minute's total does not depend on the order in which its shares are added up (ingest adds a
batch to the stored minute rollups, the grid sums raw samples: both give the same integer), and
the shares of a whole sample add up to ``steps · 1e9`` exactly. The ingest rollups and
:func:`analysis.build_minute_grid` both use this function, which is what makes a grid built from
rollups identical to one built from raw samples.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["MINUTE_US", "NSTEPS_PER_STEP", "spread_steps_nstep"]

IntArray = npt.NDArray[np.int64]

#: Microseconds per minute.
MINUTE_US = 60_000_000
#: Nano-steps per step: the unit of the integer shares (1e-9 step, far below any real count).
NSTEPS_PER_STEP = 1_000_000_000
_US_PER_S = 1_000_000
# steps · µs / s gives micro-steps; × 1000 gives nano-steps.
_NSTEPS_PER_USTEP = 1000


def spread_steps_nstep(
    *,
    end_us: npt.ArrayLike,
    steps: npt.ArrayLike,
    interval_s: npt.ArrayLike,
    first_minute: int | None = None,
    n_minutes: int | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Spread steps samples over the minutes their intervals overlap, in integer nano-steps.

    Parameters
    ----------
    end_us
        Sample end times, µs on any axis whose minute boundaries are multiples of 60e6 µs.
    steps
        Steps counted in each interval (≥ 0).
    interval_s
        Interval lengths, seconds (≥ 1); ``steps · interval_s · 1e9`` must fit in 62 bits.
    first_minute, n_minutes
        When given, only the shares of minutes ``first_minute … first_minute + n_minutes − 1``.

    Returns
    -------
    sample, minute, nstep
        One element per (sample, minute) share with steps: the sample's index, the minute
        (``⌊t / 60e6⌋``) and the share in nano-steps (> 0).
    """
    end = np.asarray(end_us, dtype=np.int64)
    count = np.asarray(steps, dtype=np.int64)
    span_s = np.asarray(interval_s, dtype=np.int64)
    span_us = span_s * _US_PER_S
    start = end - span_us
    k0 = start // MINUTE_US
    k1 = (end - 1) // MINUTE_US  # the minute holding the interval's last microsecond
    if first_minute is not None and n_minutes is not None:
        k0 = np.maximum(k0, first_minute)
        k1 = np.minimum(k1, first_minute + n_minutes - 1)
    n_pieces = np.where((k1 >= k0) & (count > 0), k1 - k0 + 1, 0)
    total = int(n_pieces.sum())
    sample = np.repeat(np.arange(end.size, dtype=np.int64), n_pieces)
    offsets = np.cumsum(n_pieces) - n_pieces
    minute = k0[sample] + (np.arange(total, dtype=np.int64) - offsets[sample])
    c, s0, length, per = count[sample], start[sample], span_us[sample], span_s[sample]
    lo = np.clip(minute * MINUTE_US - s0, 0, length)
    hi = np.clip((minute + 1) * MINUTE_US - s0, 0, length)
    # F rounded to the nearest nano-step (halves up): (2·x + d) // (2·d) = ⌊x / d + ½⌋.
    twice = 2 * _NSTEPS_PER_USTEP * c
    nstep = (twice * hi + per) // (2 * per) - (twice * lo + per) // (2 * per)
    keep = nstep > 0
    return sample[keep], minute[keep], nstep[keep]
