"""``rehab serve`` and ``rehab demo``."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from service.api import create_app
from service.cli.context import CliState, console


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


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
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        # The access log records paths, which contain patient ids; keep it off by default.
        access_log=False,
    )
