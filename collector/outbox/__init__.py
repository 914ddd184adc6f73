"""The collector's durable outbox: SQLite in WAL mode; a batch keeps its id until acknowledged.

Samples count as collected once :meth:`Outbox.append` returns: they are on disk with
``synchronous=FULL``. The uploader takes :meth:`Outbox.next_batch`, and after the service's
``200`` calls :meth:`Outbox.ack`, which deletes exactly that batch's rows; a ``4xx`` batch goes to
:meth:`Outbox.quarantine` with the server's reason.
"""

from __future__ import annotations

from collector.outbox._store import DEFAULT_CAPACITY_SAMPLES, Outbox
from collector.outbox._types import AppendResult, Batch, OutboxStatus, QuarantinedBatch

__all__ = [
    "DEFAULT_CAPACITY_SAMPLES",
    "AppendResult",
    "Batch",
    "Outbox",
    "OutboxStatus",
    "QuarantinedBatch",
]
