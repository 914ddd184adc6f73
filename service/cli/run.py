"""``rehab serve`` and ``rehab demo``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn

from service.api import create_app
from service.cli.context import CliState, console


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default REHAB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default REHAB_PORT, 8000).")] = None,
) -> None:
    """Run the API and the analysis worker."""
    state: CliState = ctx.obj
    settings = state.resolved_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if state.embedded:
        console.print(f"embedded PostgreSQL under {settings.embedded_pgdata}")
    console.print(f"serving on http://{bind_host}:{bind_port} (API docs at /docs); Ctrl-C stops")
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        # The access log records paths, which contain patient ids; keep it off by default.
        access_log=False,
    )


def demo(
    ctx: typer.Context,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep serving after loading (default).")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Address to bind (default REHAB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default REHAB_PORT, 8000).")] = None,
) -> None:
    """Load a demo care team of simulated patients, print their last 7 days and recovery, serve."""
    from service import demo as demo_module  # noqa: PLC0415 - the simulator loads only here
    from service.bench.scratch import serve_in_thread  # noqa: PLC0415

    state: CliState = ctx.obj
    settings = state.resolved_settings()
    db_url = state.database_url()
    if state.embedded:
        console.print(f"embedded PostgreSQL under {settings.embedded_pgdata}")
    with serve_in_thread(settings, db_url) as loading_url:
        logins, patients = asyncio.run(
            demo_module.load_demo(
                db_url=db_url, server_url=loading_url, settings=settings, console=console
            )
        )
    asyncio.run(demo_module.print_last_days(db_url, patients, console))
    bind_host = host or settings.host
    bind_port = port or settings.port
    url = f"http://{bind_host}:{bind_port}"
    console.print(
        f"clinician login: [bold]{logins.clinician_email}[/] / [bold]{logins.clinician_password}[/]\n"
        f"patient login:   [bold]{logins.patient_email}[/] / [bold]{logins.patient_password}[/]"
    )
    if not serve_after:
        return
    console.print(
        f"serving on [bold]{url}[/] — dashboards at {url}/ (log in as the clinician or the "
        f"patient above), API docs at {url}/docs; Ctrl-C stops"
    )
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        log_level="warning",
        access_log=False,
    )
