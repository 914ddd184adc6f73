"""``rehab analyze``: recompute a patient's days (a backfill after an analysis upgrade), and list
the days the worker set aside after they kept failing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date
from typing import Annotated, Any
from uuid import UUID

import typer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli.context import CliState, console, fail
from service.db import make_pool
from service.patients import get_patient
from service.worker import (
    WorkerOptions,
    drain,
    list_failed_days,
    monitoring_period,
    queue_days,
    queue_health,
)

# Tunable default: the most rows `rehab analyze --failed` prints (the total is always said).
_FAILED_LIST_LIMIT = 200


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} takes a date as YYYY-MM-DD, got {value!r}", code=2) from None


def analyze(
    ctx: typer.Context,
    patient: Annotated[
        UUID | None, typer.Option(help="Patient id (required unless --failed).")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help="First day, YYYY-MM-DD (patient-local); default: monitoring start."
        ),
    ] = None,
    to: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (patient-local); default: today.")
    ] = None,
    failed: Annotated[
        bool,
        typer.Option(
            "--failed",
            help="List the days set aside after failing (and those waiting for a retry); "
            "--patient narrows the list. Recompute a listed day with --patient/--from/--to.",
        ),
    ] = False,
) -> None:
    """Recompute the daily summaries of one patient's days FROM … TO, with a progress bar.

    The range is bounded to the patient's monitoring period (monitoring start, the first day with
    a device or data, to the patient's today): days outside it are never judged, and a wider range
    is narrowed with a note. Days the worker set aside are armed again by recomputing them.
    """
    state: CliState = ctx.obj
    if failed:
        if from_ is not None or to is not None:
            raise fail("--failed lists days; it takes no --from or --to", code=2)
        _list_failed(state, patient)
        return
    if patient is None:
        raise fail("--patient is required (or --failed to list the days set aside)", code=2)
    first = _parse_day(from_, "--from")
    last = _parse_day(to, "--to")
    if first is not None and last is not None and first > last:
        raise fail("--from must not be after --to", code=2)
    url = state.database_url()
    options = WorkerOptions.from_settings(state.settings)

    async def work() -> tuple[int, int, int]:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(url, state.settings)
        async with pool:
            async with pool.connection() as conn:
                if await get_patient(conn, patient) is None:
                    raise fail(f"no patient {patient}")
                period = await monitoring_period(conn, patient_id=patient)
                if period is None:
                    raise fail(
                        "the patient has no monitoring period yet (no device and no data): "
                        "nothing to analyse"
                    )
                lo = period.first if first is None else max(first, period.first)
                hi = period.today if last is None else min(last, period.today)
                if lo > hi:
                    raise fail(
                        f"{first or lo} … {last or hi} is outside the patient's monitoring period "
                        f"{period.first} … {period.today}: nothing to analyse"
                    )
                if (first is not None and first < lo) or (last is not None and last > hi):
                    console.print(
                        f"analysing {lo} … {hi}: the patient's monitoring period "
                        f"({period.first} … {period.today}) bounds the requested "
                        f"{first or lo} … {last or hi}",
                        soft_wrap=True,
                        highlight=False,
                    )
                queued = await queue_days(conn, patient_id=patient, first=lo, last=hi)
            with Progress(
                TextColumn("analysing days"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("days", total=queued)
                done = await drain(
                    pool,
                    on_progress=lambda n: progress.update(task, completed=n),
                    options=options,
                )
            async with pool.connection() as conn:
                health = await queue_health(conn, patient_id=patient)
        return done, health.retrying, health.failed

    done, retrying, set_aside = asyncio.run(work())
    console.print(f"recomputed {done} patient-days")
    if retrying or set_aside:
        console.print(
            f"{retrying} of the patient's days failed and wait for a retry by the worker, "
            f"{set_aside} are set aside: `rehab analyze --failed --patient {patient}` lists them",
            soft_wrap=True,
            highlight=False,
        )


def _list_failed(state: CliState, patient: UUID | None) -> None:
    async def read(conn: AsyncConnection[Any]) -> tuple[list[Any], int, int]:
        rows = await list_failed_days(
            conn, patient_id=patient, include_retrying=True, limit=_FAILED_LIST_LIMIT
        )
        health = await queue_health(conn, patient_id=patient)
        return rows, health.retrying, health.failed

    rows, retrying, set_aside = state.run(read)
    if not rows:
        console.print("no day is set aside or waiting for a retry")
        return
    table = Table(title="Patient-days that failed in the worker")
    for column in ("patient", "day", "attempts", "error", "state"):
        table.add_column(column)
    for row in rows:
        if row.failed_at is not None:
            where = f"set aside {row.failed_at.astimezone(UTC):%Y-%m-%d %H:%M}Z"
        elif row.next_attempt_at is not None:
            where = f"retry after {row.next_attempt_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"
        else:
            where = "retry due"
        table.add_row(
            str(row.patient_id), str(row.day), str(row.attempts), row.error_class or "", where
        )
    console.print(table)
    shown = f" (the first {len(rows)} shown)" if len(rows) < retrying + set_aside else ""
    console.print(
        f"{set_aside} set aside, {retrying} waiting for a retry{shown}; "
        "`rehab analyze --patient ID --from D --to D` recomputes a day and arms it again",
        soft_wrap=True,
        highlight=False,
    )
