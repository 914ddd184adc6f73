"""``rehab worker``: the analysis worker as a process of its own, without the HTTP server.

The API (``rehab serve``) and the workers then scale separately: any number of each share one
database (the queue's claims, migration 0017). ``rehab serve`` keeps its built-in worker unless
``REHAB_RUN_WORKER=false``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from typing import Annotated, Any

import typer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from service.cli.context import CliState, console, fail
from service.db import make_pool
from service.worker import Worker, WorkerOptions

__all__ = ["register", "worker"]

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Worker tasks in this process; each claims its own batches (one core is "
            "used either way: run more processes for more cores).",
        ),
    ] = 1,
) -> None:
    """Run the analysis worker (no HTTP server) until Ctrl-C or SIGTERM."""
    state: CliState = ctx.obj
    settings = state.resolved_settings()
    if settings.database_url is None:  # resolved_settings always sets it
        raise fail("no database")
    url = settings.database_url.get_secret_value()
    options = WorkerOptions.from_settings(settings)
    if state.embedded:
        console.print(f"embedded PostgreSQL under {settings.embedded_pgdata}")

    async def run() -> None:
        # One connection per task, one for the sweeps, one spare.
        pool: AsyncConnectionPool[AsyncConnection[Any]] = make_pool(
            url,
            settings.model_copy(
                update={"db_pool_max_size": max(settings.db_pool_max_size, concurrency + 2)}
            ),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with pool:
            running = Worker(pool, url, options=options, concurrency=concurrency)
            running.start()
            console.print(
                f"analysis worker started (pid {os.getpid()}, {concurrency} task(s), batches of "
                f"{options.batch_days} days, today at most every {options.today_interval_s:g} s); "
                "Ctrl-C stops",
                highlight=False,
                soft_wrap=True,
            )
            await stop.wait()
            console.print("analysis worker stopping", highlight=False)
            # A day being computed is abandoned: its claim ends with the connection's backend
            # and the day is taken again at once by any worker.
            await running.stop()
        console.print("analysis worker stopped", highlight=False)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
