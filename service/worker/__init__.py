"""The analysis worker: recomputes the patient-days that ingestion (or a plan change) made dirty."""

from service.worker.days import day_bounds, local_day
from service.worker.loop import Worker, drain
from service.worker.recompute import recompute_day
from service.worker.sweep import (
    queue_days,
    queue_ended_days,
    queue_missing_days,
    queue_outdated_days,
)

__all__ = [
    "Worker",
    "day_bounds",
    "drain",
    "local_day",
    "queue_days",
    "queue_ended_days",
    "queue_missing_days",
    "queue_outdated_days",
    "recompute_day",
]
