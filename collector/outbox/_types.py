"""Typed values the outbox hands out: formed and quarantined batches, status, append results."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AppendResult", "Batch", "OutboxStatus", "QuarantinedBatch"]


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch formed from the oldest samples, ready to send as one ``POST /v1/ingest`` body.

    ``first_id``/``last_id`` are the outbox row ids it covers; the batch id and the rows stay fixed
    until the batch is acknowledged, quarantined or dropped, so a retry sends identical bytes.
    """

    batch_id: str
    body: bytes
    n_samples: int
    first_id: int
    last_id: int
    formed_at_s: float


@dataclass(frozen=True, slots=True)
class QuarantinedBatch:
    """A batch the service refused with a 4xx, kept with the server's reason for inspection."""

    batch_id: str
    status_code: int
    reason: str
    n_samples: int
    quarantined_at_s: float
    body: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What one append did: rows made durable, and old rows dropped to stay within capacity."""

    appended: int
    dropped: int


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """Counters for the status page and logs; totals survive restarts.

    ``last_upload_s`` is the wall-clock epoch time of the last acknowledged batch, ``None`` before
    the first one; ``oldest_t_s`` the sample time of the oldest row still waiting.
    """

    depth_samples: int
    capacity_samples: int
    pending_batch_id: str | None
    acked_samples: int
    dropped_samples: int
    quarantined_batches: int
    quarantined_samples: int
    last_upload_s: float | None
    oldest_t_s: float | None
