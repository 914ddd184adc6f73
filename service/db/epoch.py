"""PostgreSQL's epoch: its timestamps count microseconds from 2000-01-01 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["PG_EPOCH", "PG_EPOCH_S"]

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PG_EPOCH_S = int(PG_EPOCH.timestamp())  # 946,684,800 s after the Unix epoch
