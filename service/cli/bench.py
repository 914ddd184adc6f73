"""``rehab bench …``: benchmarks that print figures next to a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.context import CliState, console, fail

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


@app.command("growth")
def bench_growth(
    ctx: typer.Context,
    stages: Annotated[
        list[int] | None,
        typer.Option(
            "--patient-months", min=1, help="Stored patient-months to measure at (repeatable)."
        ),
    ] = None,
    repeats: Annotated[int, typer.Option(min=3, help="Runs of each operation per stage.")] = 50,
) -> None:
    """Refresh and /days of one patient at 10, 100, 1,000 patient-months, next to the first."""
    from service.bench import growth  # noqa: PLC0415 - benchmarks load only when asked for

    state: CliState = ctx.obj
    growth.run(
        console,
        server_url=state.database_url(migrate=False),
        stages=stages or growth.DEFAULT_STAGES,
        repeats=repeats,
    )


@app.command("storage")
def bench_storage(ctx: typer.Context) -> None:
    """Bytes per patient-month raw and after compress_chunk (needs a TimescaleDB server)."""
    from service.bench import storage  # noqa: PLC0415 - benchmarks load only when asked for

    state: CliState = ctx.obj
    storage.run(console, server_url=state.database_url(migrate=False))


@app.command("collector")
def bench_collector(
    ctx: typer.Context,
    notifications: Annotated[
        int, typer.Option(min=1000, help="Synthetic notifications to decode.")
    ] = 200_000,
    samples: Annotated[
        int, typer.Option(min=1000, help="Heart-rate samples to upload from the outbox.")
    ] = 200_000,
    pid: Annotated[
        int | None,
        typer.Option(help="Instead: CPU and memory of this running `rehab collect run` process."),
    ] = None,
    duration_s: Annotated[
        float, typer.Option("--duration-s", min=1.0, help="How long to watch --pid, seconds.")
    ] = 30.0,
) -> None:
    """Notifications decoded/s and outbox → server samples/s, each next to a baseline; or --pid."""
    from service.bench import collector  # noqa: PLC0415 - benchmarks load only when asked for

    if pid is not None:
        collector.run_footprint(console, pid=pid, duration_s=duration_s)
        return
    state: CliState = ctx.obj
    collector.run(
        console,
        server_url=state.database_url(migrate=False),
        settings=state.settings,
        notifications=notifications,
        samples=samples,
    )


@app.command("api")
def bench_api(
    ctx: typer.Context,
    clients: Annotated[int, typer.Option(min=1, help="Concurrent HTTP clients.")] = 64,
    requests_per_client: Annotated[
        int, typer.Option(min=1, help="Timed requests per client and route.")
    ] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the simulated patient's days.")] = 0,
) -> None:
    """Requests/s and p50/p99 of GET /v1/patients/{id}/days (30 full summaries), GET /v1/auth/me
    and the care team's list (GET /team, 100 patients), then days and team pages mixed."""
    from service.bench import api  # noqa: PLC0415 - benchmarks load only when asked for

    state: CliState = ctx.obj
    api.run(
        console,
        server_url=state.database_url(migrate=False),
        clients=clients,
        requests_per_client=requests_per_client,
        seed=seed,
    )


@app.command("fleet")
def bench_fleet(
    ctx: typer.Context,
    hubs: Annotated[
        int, typer.Option(help="Simulated home hubs, each its own patient and token.")
    ] = 1000,
    minutes: Annotated[float, typer.Option(help="Minutes of uploads (fractions allowed).")] = 5.0,
    workers: Annotated[
        int, typer.Option(help="rehab worker processes besides rehab serve's built-in worker.")
    ] = 1,
    dashboard_rps: Annotated[
        float, typer.Option(help="Dashboard requests per second (/days and /team).")
    ] = 100.0,
    seed: Annotated[int, typer.Option(help="Seed of the hubs' days, phases and jitter.")] = 0,
    drain_s: Annotated[
        float,
        typer.Option("--drain-s", help="Seconds to wait after the uploads for the last summaries."),
    ] = 120.0,
    baseline_s: Annotated[
        float,
        typer.Option(
            "--baseline-s", help="Seconds of dashboard traffic on the idle service first."
        ),
    ] = 15.0,
    team_size: Annotated[
        int, typer.Option(help="Patients per care team (one clinician each).")
    ] = 100,
    team_share: Annotated[
        float, typer.Option(help="Share of dashboard requests that are the /team page.")
    ] = 0.1,
    serve_worker: Annotated[
        bool,
        typer.Option(
            "--serve-worker/--no-serve-worker",
            help="Run rehab serve's built-in worker (default) or leave the days to --workers.",
        ),
    ] = True,
    serve_processes: Annotated[
        int,
        typer.Option(
            help="rehab serve replicas on their own ports; uploads and dashboards round-robin."
        ),
    ] = 1,
    page_processes: Annotated[
        int,
        typer.Option(
            help="rehab serve replicas for the /team page alone (0: pages share the replicas)."
        ),
    ] = 1,
    background_nice: Annotated[
        int,
        typer.Option(
            help="Niceness of the page replicas and rehab workers (0: the API's priority)."
        ),
    ] = 10,
    prefill: Annotated[
        bool,
        typer.Option(
            "--prefill/--no-prefill",
            help="Store today's minute rollups so far and 30 days of summaries first (default).",
        ),
    ] = True,
    period_s: Annotated[
        int,
        typer.Option(
            "--period-s",
            hidden=True,
            help="Upload period in seconds, a divisor of 60 (shorter only for tests).",
        ),
    ] = 60,
) -> None:
    """N hubs uploading once a minute through the API, dashboards at 100 req/s: staleness, CPU."""
    from service.bench import fleet  # noqa: PLC0415 - benchmarks load only when asked for

    checks = [
        (hubs >= 1, "--hubs must be at least 1"),
        (minutes > 0, "--minutes must be more than 0"),
        (workers >= 0, "--workers must be 0 or more"),
        (serve_processes >= 1, "--serve-processes must be at least 1"),
        (page_processes >= 0, "--page-processes must be 0 or more"),
        (0 <= background_nice <= 19, "--background-nice must be between 0 and 19"),
        (dashboard_rps > 0, "--dashboard-rps must be more than 0"),
        (drain_s >= 0, "--drain-s must be 0 or more"),
        (baseline_s > 0, "--baseline-s must be more than 0"),
        (team_size >= 1, "--team-size must be at least 1"),
        (0 <= team_share <= 1, "--team-share must be between 0 and 1"),
        (serve_worker or workers >= 1, "--no-serve-worker needs --workers 1 or more"),
        (1 <= period_s <= 60 and 60 % period_s == 0, "--period-s must divide 60"),
    ]
    for ok, message in checks:
        if not ok:
            raise fail(message)
    state: CliState = ctx.obj
    fleet.run(
        console,
        server_url=state.database_url(migrate=False),
        settings=state.settings,
        options=fleet.FleetOptions(
            hubs=hubs,
            minutes=minutes,
            workers=workers,
            dashboard_rps=dashboard_rps,
            seed=seed,
            drain_s=drain_s,
            baseline_s=baseline_s,
            period_s=period_s,
            team_size=team_size,
            team_share=team_share,
            serve_worker=serve_worker,
            serve_processes=serve_processes,
            page_processes=page_processes,
            background_nice=background_nice,
            prefill=prefill,
        ),
    )
