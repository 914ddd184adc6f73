"""Typed values the uploader reports: per-batch outcomes, progress and totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["BatchOutcome", "ProgressCallback", "UploadProgress", "UploadTotals"]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What happened to one batch: acknowledged (``200``), released to be formed again smaller
    (``413``), or quarantined (other ``4xx``). ``n_samples`` counts the samples settled.
    """

    batch_id: str
    n_samples: int
    result: Literal["acked", "released", "quarantined"]
    accepted: int
    duplicates: int
    attempts: int
    status_code: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UploadProgress:
    """Running counts for a progress bar: ``samples_done`` of ``samples_total``."""

    samples_done: int
    samples_total: int
    accepted: int
    duplicates: int
    quarantined_samples: int


@dataclass(frozen=True, slots=True)
class UploadTotals:
    """Totals of one :meth:`Uploader.drain`."""

    batches: int
    samples_sent: int
    accepted: int
    duplicates: int
    quarantined_batches: int
    quarantined_samples: int
    retries: int


ProgressCallback = Callable[[UploadProgress], None]
