"""Exponential backoff with jitter, with a separate curve and streak per error class."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from collector.link._classify import ErrorClass

__all__ = ["NO_RETRY", "Backoff", "BackoffCurve", "RetryPolicy"]

NO_RETRY = frozenset({ErrorClass.CREDENTIALS})
"""Classes that park the link instead of retrying: only re-pairing the hub can fix them."""


@dataclass(frozen=True, slots=True)
class BackoffCurve:
    """One exponential curve: ``base_s · factor^(n-1)`` capped at ``cap_s``, then jittered.

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
        exponent = min(failures - 1, 64)  # bound the power; the cap is reached long before
        return float(min(self.cap_s, self.base_s * self.factor**exponent))


def _default_curves() -> dict[ErrorClass, BackoffCurve]:
    return {
        # Aborted attempts and dropped links clear up within a second or two; bleak-retry-connector
        # waits 0.25 s (BLEAK_TRANSIENT_BACKOFF_TIME) between its own inner attempts.
        ErrorClass.TRANSIENT: BackoffCurve(base_s=1.0, cap_s=60.0),
        # A timed-out connect already cost its full deadline; tunable default.
        ErrorClass.TIMEOUT: BackoffCurve(base_s=5.0, cap_s=120.0),
        # Refused connections rarely fix themselves quickly; tunable default.
        ErrorClass.CONNECT: BackoffCurve(base_s=10.0, cap_s=300.0),
        # Not advertising: the advertisement wait itself paces the loop; tunable default.
        ErrorClass.NOT_FOUND: BackoffCurve(base_s=2.0, cap_s=60.0),
        # No adapter or BlueZ down: an operator has to act; poll slowly; tunable default.
        ErrorClass.ADAPTER: BackoffCurve(base_s=15.0, cap_s=300.0),
    }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff curves per error class and the jitter applied to them.

    ``jitter`` is the fraction of each delay drawn at random: the delay is uniform in
    ``[(1 − jitter)·d, d]`` ("equal jitter" at 0.5, AWS Architecture Blog 2015), so devices that
    failed together do not retry together, and a delay never collapses to zero.
    """

    curves: dict[ErrorClass, BackoffCurve] = field(default_factory=_default_curves)
    jitter: float = 0.5  # equal jitter: "Exponential Backoff And Jitter", AWS Architecture Blog

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")
        missing = set(ErrorClass) - NO_RETRY - set(self.curves)
        if missing:
            raise ValueError(f"no backoff curve for {sorted(c.value for c in missing)}")


class Backoff:
    """Counts consecutive failures per error class and turns them into jittered delays.

    Parameters
    ----------
    policy
        The curves and jitter.
    rng
        Source of jitter; pass ``random.Random(seed)`` for reproducible delays.
    """

    def __init__(self, *, policy: RetryPolicy, rng: random.Random) -> None:
        self._policy = policy
        self._rng = rng
        self._streaks: dict[ErrorClass, int] = dict.fromkeys(ErrorClass, 0)

    def failure(self, error_class: ErrorClass) -> float:
        """Record one failure of ``error_class`` and return the delay before the next attempt, s.

        Raises
        ------
        ValueError
            For a class in :data:`NO_RETRY`, which has no next attempt.
        """
        if error_class in NO_RETRY:
            raise ValueError(f"{error_class.value} failures are not retried")
        self._streaks[error_class] += 1
        ceiling = self._policy.curves[error_class].ceiling_s(self._streaks[error_class])
        low = ceiling * (1.0 - self._policy.jitter)
        return self._rng.uniform(low, ceiling)

    def success(self) -> None:
        """Forget every streak after a connection that delivered data."""
        for error_class in self._streaks:
            self._streaks[error_class] = 0

    def streak(self, error_class: ErrorClass) -> int:
        """Consecutive failures of ``error_class`` since the last success."""
        return self._streaks[error_class]

    @property
    def total_streak(self) -> int:
        """Consecutive failures of any class since the last success."""
        return sum(self._streaks.values())
