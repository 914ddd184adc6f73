"""The analysis worker: recomputes the patient-days that ingestion (or a plan change) made dirty."""

from service.worker.days import day_bounds, local_day
from service.worker.failed import FailedDay, QueueHealth, list_failed_days, queue_health
from service.worker.loop import Worker, drain, process_one
from service.worker.options import DEFAULT_OPTIONS, WorkerOptions
from service.worker.recompute import recompute_day
from service.worker.sweep import (
    MonitoringPeriod,
    monitoring_period,
    queue_days,
    queue_ended_days,
    queue_missing_days,
    queue_outdated_days,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "FailedDay",
    "MonitoringPeriod",
    "QueueHealth",
    "Worker",
    "WorkerOptions",
    "day_bounds",
    "drain",
    "list_failed_days",
    "local_day",
    "monitoring_period",
    "process_one",
    "queue_days",
    "queue_ended_days",
    "queue_health",
    "queue_missing_days",
    "queue_outdated_days",
    "recompute_day",
]
