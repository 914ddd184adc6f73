"""``rehab analyze``: recompute a patient's days (a backfill after an analysis upgrade)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import typer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.cli.context import CliState, console, fail
from service.db import make_pool
from service.patients import get_patient
from service.worker import drain, queue_days


def analyze(
    ctx: typer.Context,
    patient: Annotated[UUID, typer.Option(help="Patient id.")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (patient-local).")],
    to: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD (patient-local).")],
) -> None:
    """Recompute the daily summaries of one patient's days FROM … TO, with a progress bar.

    Days before the patient's monitoring start (first day with a device or data) and after the
    patient's today are left out: they are never judged.
    """
    try:
        first, last = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError as exc:
        raise fail(f"--from and --to take dates as YYYY-MM-DD ({exc})", code=2) from None
    if first > last:
        raise fail("--from must not be after --to", code=2)
    state: CliState = ctx.obj
    url = state.database_url()

    async def work() -> int:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(url, state.settings)
        async with pool:
            async with pool.connection() as conn:
                if await get_patient(conn, patient) is None:
                    raise fail(f"no patient {patient}")
                queued = await queue_days(conn, patient_id=patient, first=first, last=last)
            with Progress(
                TextColumn("analysing days"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("days", total=queued)
                return await drain(pool, on_progress=lambda n: progress.update(task, completed=n))

    done = asyncio.run(work())
    console.print(f"recomputed {done} patient-days")
