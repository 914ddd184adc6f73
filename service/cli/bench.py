"""``rehab bench …``: benchmarks that print figures next to a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.context import CliState, console

app = typer.Typer(help="Benchmarks (figures next to an in-run baseline).", no_args_is_help=True)


@app.command("ingest")
def bench_ingest(
    ctx: typer.Context,
    samples: Annotated[int, typer.Option(min=1000, help="Heart-rate samples to send.")] = 500_000,
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per request.")] = 10_000,
    concurrency: Annotated[int, typer.Option(min=1, help="Concurrent uploads.")] = 2,
) -> None:
    """Samples/s through POST /v1/ingest next to a plain COPY of the same rows (scratch database)."""
    from service.bench import ingest  # noqa: PLC0415 - benchmarks load only when asked for

    state: CliState = ctx.obj
    ingest.run(
        console,
        server_url=state.database_url(migrate=False),
        settings=state.settings,
        samples=samples,
        batch_size=batch_size,
        concurrency=concurrency,
    )


@app.command("analysis")
def bench_analysis(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=10, help="Synthetic patient-days to analyse.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic days.")] = 0,
    database: Annotated[
        bool,
        typer.Option(
            "--database/--no-database",
            help="Also time the refresh of one 1 Hz patient-day from the database (scratch database).",
        ),
    ] = True,
    repeats: Annotated[int, typer.Option(min=3, help="Refresh runs to time.")] = 30,
) -> None:
    """Patient-days/s from minute grids next to a plain reduction pass; refresh time from the DB."""
    from service.bench import analysis, refresh  # noqa: PLC0415 - benchmarks load only when asked for

    analysis.run(console, days=days, seed=seed)
    if database:
        state: CliState = ctx.obj
        refresh.run(console, server_url=state.database_url(migrate=False), repeats=repeats)
