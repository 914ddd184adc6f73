"""The uploader: outbox batches to ``POST /v1/ingest``, deleted only once the service acknowledged.

Retries network errors and ``5xx`` with exponential backoff and jitter, quarantines batches refused
with a ``4xx`` (keeping the server's reason), and stops on ``401`` so the hub can be paired again.
"""

from __future__ import annotations

from collector.upload._retry import UploadRetryPolicy, backoff_delay_s
from collector.upload._types import BatchOutcome, ProgressCallback, UploadProgress, UploadTotals
from collector.upload._uploader import Uploader

__all__ = [
    "BatchOutcome",
    "ProgressCallback",
    "UploadProgress",
    "UploadRetryPolicy",
    "UploadTotals",
    "Uploader",
    "backoff_delay_s",
]
