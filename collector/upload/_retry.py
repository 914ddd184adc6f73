"""Backoff for transient upload failures (network errors, 408, 429, 5xx)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from collector.backoff import FULL_JITTER, BackoffCurve, jittered_delay_s

__all__ = ["UploadRetryPolicy", "backoff_delay_s"]


@dataclass(frozen=True, slots=True)
class UploadRetryPolicy:
    """Exponential backoff with full jitter (:data:`collector.backoff.FULL_JITTER`: why, there).

    ``give_up_after_s`` bounds how long one batch is retried; ``None`` retries forever, which is
    what the hub daemon wants: the outbox holds 30 days, so waiting out an outage loses nothing.
    """

    # Tunable default: first retry after up to 1 s, enough for a restarting service.
    initial_backoff_s: float = 1.0
    # Tunable default: doubling per attempt (the AWS article's base-2 exponential).
    multiplier: float = 2.0
    # Tunable default: never wait more than 5 minutes between attempts during a long outage.
    max_backoff_s: float = 300.0
    give_up_after_s: float | None = None

    def __post_init__(self) -> None:
        if self.initial_backoff_s <= 0 or self.max_backoff_s < self.initial_backoff_s:
            raise ValueError(
                f"backoff bounds must satisfy 0 < initial_backoff_s <= max_backoff_s, got "
                f"{self.initial_backoff_s} and {self.max_backoff_s}"
            )
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")

    @property
    def curve(self) -> BackoffCurve:
        """The curve the delays follow, before jitter."""
        return BackoffCurve(
            base_s=self.initial_backoff_s, cap_s=self.max_backoff_s, factor=self.multiplier
        )


def backoff_delay_s(
    attempt: int,
    *,
    policy: UploadRetryPolicy,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    Full jitter: uniform in ``[0, min(max_backoff_s, initial_backoff_s · multiplier^(attempt-1))]``.
    A server's ``Retry-After`` raises the wait to at least that value, capped at ``max_backoff_s``.
    """
    if attempt < 1:
        raise ValueError(f"attempt is 1-based, got {attempt}")
    delay_s = jittered_delay_s(policy.curve, attempt, jitter=FULL_JITTER, rng=rng)
    if retry_after_s is not None:
        delay_s = max(delay_s, min(retry_after_s, policy.max_backoff_s))
    return delay_s
