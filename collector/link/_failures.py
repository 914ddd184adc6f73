"""One link's failure bookkeeping: counts, the last error, backoff, and logging each kind once."""

from __future__ import annotations

import logging
import random

from collector.errors import DeviceError
from collector.link._backoff import NO_RETRY, Backoff, LinkRetryPolicy
from collector.link._classify import classify

__all__ = ["FailureLog"]

_LOG = logging.getLogger("collector.link")


class FailureLog:
    """Turns each failed session of one link into a delay, and into a log line when it is news.

    A kind of failure is logged as a warning once per streak, then at debug level, so a device
    out of range for a day does not fill the journal. Classes in :data:`NO_RETRY` are logged as
    errors and have no delay.

    Parameters
    ----------
    name
        The device's human name, for logs.
    policy
        Backoff curves per error class.
    rng
        Jitter source.
    """

    def __init__(self, *, name: str, policy: LinkRetryPolicy, rng: random.Random) -> None:
        self._name = name
        self._backoff = Backoff(policy=policy, rng=rng)
        self._logged: set[type[DeviceError]] = set()
        self.failures = 0
        self.last_error: str | None = None

    def delivered(self) -> None:
        """A session delivered data: the streaks end here, and the next failure is news."""
        if self._backoff.total_streak:
            _LOG.info(
                "%s: recovered after %d failed attempt(s)", self._name, self._backoff.total_streak
            )
        self._backoff.success()
        self._logged.clear()

    def failed(self, error: DeviceError) -> float | None:
        """Record ``error``; return the delay before the next attempt (s), ``None`` for never."""
        self.failures += 1
        self.last_error = error.message
        error_class = classify(error)
        advice = error.fields.get("advice", "")
        if error_class in NO_RETRY:
            _LOG.error(
                "%s: %s [%s] - %s; not reconnecting until the hub is paired again",
                self._name,
                error.message,
                error_class.value,
                advice,
            )
            return None
        delay_s = self._backoff.failure(error_class)
        kind = type(error)
        if kind not in self._logged:
            self._logged.add(kind)
            _LOG.warning(
                "%s: %s [%s] - %s; retrying in %.1f s",
                self._name,
                error.message,
                error_class.value,
                advice,
                delay_s,
            )
        else:
            _LOG.debug("%s: %s; retrying in %.1f s", self._name, error.message, delay_s)
        return delay_s
