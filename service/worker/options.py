"""What the worker, ``drain`` and ``recompute_day`` are tuned by: built from Settings at the entry
point (``create_app``, ``rehab demo``, ``rehab analyze``) and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from service.settings import Settings

__all__ = ["DEFAULT_OPTIONS", "WorkerOptions"]


def _default(name: str) -> Any:
    """The default of a Settings field: one source for every tunable default."""
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class WorkerOptions:
    """The worker's knobs; the defaults are those of :class:`service.settings.Settings`."""

    # How often the worker looks for dirty days when no NOTIFY woke it (REHAB_WORKER_POLL_S).
    poll_s: float = _default("worker_poll_s")
    # Alert lifecycle (REHAB_ALERT_CLEAR_DAYS, REHAB_NOTIFY_DIGEST_INTERVAL_S).
    alert_clear_days: int = _default("alert_clear_days")
    digest_interval_s: int = _default("notify_digest_interval_s")
    # A day whose computation fails is tried this many times in all, then set aside
    # (REHAB_WORKER_MAX_ATTEMPTS).
    max_attempts: int = _default("worker_max_attempts")
    # The wait before the first retry; it doubles with every further failure, up to
    # retry_backoff_max_s (REHAB_WORKER_RETRY_BACKOFF_S; the cap is a tunable default: an hour).
    retry_backoff_s: float = _default("worker_retry_backoff_s")
    retry_backoff_max_s: float = 3600.0
    # Tunable default: a claim is taken over after 15 minutes even if its database backend still
    # exists (a day takes well under a second; a claim of a killed worker is taken over at once).
    claim_lease_s: float = 900.0
    # How many dirty days one claim takes (REHAB_WORKER_BATCH_DAYS) and how often at most a day
    # still in progress is recomputed (REHAB_WORKER_TODAY_INTERVAL_S; 0: at every change).
    batch_days: int = _default("worker_batch_days")
    today_interval_s: float = _default("worker_today_interval_s")

    def retry_delay(self, failures: int) -> timedelta:
        """The wait after the ``failures``-th failure (1, 2, …) before the next attempt."""
        seconds = self.retry_backoff_s * 2 ** min(max(failures - 1, 0), 30)
        return timedelta(seconds=min(seconds, self.retry_backoff_max_s))

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            poll_s=settings.worker_poll_s,
            alert_clear_days=settings.alert_clear_days,
            digest_interval_s=settings.notify_digest_interval_s,
            max_attempts=settings.worker_max_attempts,
            retry_backoff_s=settings.worker_retry_backoff_s,
            batch_days=settings.worker_batch_days,
            today_interval_s=settings.worker_today_interval_s,
        )


DEFAULT_OPTIONS = WorkerOptions()
