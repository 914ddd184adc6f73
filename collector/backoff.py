"""Exponential backoff with jitter: the one curve and the one jitter rule of the collector.

Both the Bluetooth links (:mod:`collector.link`, a curve per error class) and the uploader
(:mod:`collector.upload`, one curve per batch) wait ``base_s · factor^(n−1)`` capped at
``cap_s`` after ``n`` consecutive failures, then draw the delay uniformly from
``[(1 − jitter)·d, d]`` ("Exponential Backoff And Jitter", AWS Architecture Blog 2015). They
differ only in ``jitter``, for a reason:

- :data:`FULL_JITTER` (1.0) for uploads: many hubs retry against one service after its outage,
  and full jitter spreads them the most (the article's measurements: the least total work and
  the fewest collisions among competing clients).
- :data:`EQUAL_JITTER` (0.5) for Bluetooth links: nothing competes for the hub's radio but the
  hub's own devices, which need only to be kept apart; a floor of half the delay keeps a flapping
  device from being retried at once and keeping the adapter busy.

The service's webhook delivery (``service.notify``) has its own policy with a budget of attempts
and no jitter: one deliverer per clinic leases its rows, so there is no herd to spread.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["EQUAL_JITTER", "FULL_JITTER", "BackoffCurve", "jittered_delay_s"]

FULL_JITTER = 1.0  # uniform in [0, d]: AWS Architecture Blog 2015, "Full Jitter"
EQUAL_JITTER = 0.5  # uniform in [d/2, d]: AWS Architecture Blog 2015, "Equal Jitter"
# The exponent is capped at 64 doublings, so that a week-long streak cannot overflow a float;
# every cap is reached long before.
_MAX_EXPONENT = 64


@dataclass(frozen=True, slots=True)
class BackoffCurve:
    """One exponential curve: ``base_s · factor^(n-1)`` capped at ``cap_s``, before jitter.

    Parameters
    ----------
    base_s
        Delay after the first failure of a streak, in seconds.
    cap_s
        Largest delay before jitter, in seconds.
    factor
        Growth per consecutive failure (dimensionless).
    """

    base_s: float
    cap_s: float
    factor: float = 2.0  # doubling: "Exponential Backoff And Jitter", AWS Architecture Blog 2015

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or self.factor < 1:
            raise ValueError(f"invalid backoff curve {self!r}")

    def ceiling_s(self, failures: int) -> float:
        """Un-jittered delay after ``failures`` consecutive failures (``failures ≥ 1``)."""
        if failures < 1:
            raise ValueError(f"failures count from 1, got {failures}")
        exponent = min(failures - 1, _MAX_EXPONENT)
        return float(min(self.cap_s, self.base_s * self.factor**exponent))


def jittered_delay_s(
    curve: BackoffCurve, failures: int, *, jitter: float, rng: random.Random
) -> float:
    """Seconds to wait after ``failures`` consecutive failures: uniform in ``[(1−jitter)·d, d]``."""
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be within [0, 1], got {jitter}")
    ceiling = curve.ceiling_s(failures)
    return rng.uniform(ceiling * (1.0 - jitter), ceiling)
