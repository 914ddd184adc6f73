"""Backoff of the Bluetooth links: a curve and a streak per error class (curves: collector.backoff)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from collector.backoff import EQUAL_JITTER, BackoffCurve, jittered_delay_s
from collector.link._classify import ErrorClass

__all__ = ["NO_RETRY", "Backoff", "BackoffCurve", "LinkRetryPolicy"]

NO_RETRY = frozenset({ErrorClass.CREDENTIALS})
"""Classes that park the link instead of retrying: only re-pairing the hub can fix them."""


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
class LinkRetryPolicy:
    """Backoff curves per error class and the jitter applied to them.

    ``jitter`` is the fraction of each delay drawn at random: the delay is uniform in
    ``[(1 − jitter)·d, d]``, so devices that failed together do not retry together, and with the
    default (equal jitter, :data:`collector.backoff.EQUAL_JITTER`: why, there) a delay never
    collapses to zero.
    """

    curves: dict[ErrorClass, BackoffCurve] = field(default_factory=_default_curves)
    jitter: float = EQUAL_JITTER

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

    def __init__(self, *, policy: LinkRetryPolicy, rng: random.Random) -> None:
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
        return jittered_delay_s(
            self._policy.curves[error_class],
            self._streaks[error_class],
            jitter=self._policy.jitter,
            rng=self._rng,
        )

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
