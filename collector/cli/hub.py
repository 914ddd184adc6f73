"""The home hub's own ``rehab`` command tree: ``rehab collect …`` and ``rehab simulate``.

A hub runs unattended on small machines (a Raspberry Pi), so these commands are served by a
command tree that loads the collector only, not the service's web and database stack (about
25 MiB of resident memory less), and a hub-only install (``pip install .``) has no service
packages at all. ``service.cli.entry`` hands :data:`HUB_COMMANDS` here.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from collector.cli import HUB_COMMANDS, collect
from collector.cli.simulate import simulate

__all__ = ["HUB_COMMANDS", "app"]

app = typer.Typer(
    name="rehab",
    help="Rehab Monitor home hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(collect.app, name="collect")
app.command("simulate")(simulate)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Configuration comes from REHAB_* environment variables (see the README)."""
    # Request lines from the HTTP client would drown the output.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
